/* The grid member's report page: the phone's position, more people, the on-the-spot part, smaller photos. */
(function () {
  'use strict';
  var form = document.getElementById('grid-report-form');
  if (!form) { return; }

  // Position: asked once when the page opens (and again on demand); the report works without it.
  var lat = form.querySelector('#latitude'), lon = form.querySelector('#longitude'),
      acc = form.querySelector('#accuracy_m'), status = document.getElementById('location-status');
  function showPosition() {
    status.textContent = status.dataset.located.replace('{lat}', lat.value).replace('{lon}', lon.value)
      .replace('{acc}', acc.value || '?');
    status.className = 'located';
  }
  function locate() {
    if (!('geolocation' in navigator)) { status.textContent = status.dataset.unavailable; return; }
    status.textContent = status.dataset.locating;
    status.className = '';
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(6);
      lon.value = pos.coords.longitude.toFixed(6);
      acc.value = Math.round(pos.coords.accuracy);
      showPosition();
    }, function () {
      lat.value = lon.value = acc.value = '';
      status.textContent = status.dataset.failed;
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  }
  document.getElementById('locate').addEventListener('click', locate);
  if (lat.value && lon.value) { showPosition(); } else { locate(); }

  // One more person: a copy of the last card, numbered on.
  document.getElementById('add-party').addEventListener('click', function (ev) {
    var cards = form.querySelectorAll('.party-card'), n = cards.length;
    if (n >= 10) { return; }
    var clone = cards[n - 1].cloneNode(true);
    clone.querySelectorAll('input, select').forEach(function (input) {
      input.name = input.name.replace('parties-' + (n - 1) + '-', 'parties-' + n + '-');
      input.id = input.name;
      if (input.tagName === 'INPUT') { input.value = ''; }
    });
    clone.querySelectorAll('label[for]').forEach(function (label) {
      label.htmlFor = label.htmlFor.replace('parties-' + (n - 1) + '-', 'parties-' + n + '-');
    });
    clone.querySelectorAll('.field-error').forEach(function (e) { e.remove(); });
    clone.querySelectorAll('.has-error').forEach(function (e) { e.classList.remove('has-error'); });
    ev.target.parentNode.insertBefore(clone, ev.target);
  });

  // The on-the-spot part only when the dispute was resolved there.
  var spot = document.getElementById('on-the-spot'), submit = document.getElementById('submit-report'),
      sendLabel = submit.textContent;
  function outcome() {
    var chosen = form.querySelector('input[name=outcome]:checked');
    var onSpot = chosen && chosen.value === 'on_the_spot';
    spot.style.display = onSpot ? '' : 'none';
    submit.textContent = onSpot ? submit.dataset.close : sendLabel;
  }
  form.querySelectorAll('input[name=outcome]').forEach(function (r) { r.addEventListener('change', outcome); });
  outcome();

  // Photos: list them; before sending, a large one is redrawn at most 2048 px wide as a JPEG, so a few
  // phone photos fit in one request (the server checks each file whatever happens here).
  var photos = form.querySelector('#photos'), list = document.getElementById('photo-list');
  photos.addEventListener('change', function () {
    list.textContent = '';
    Array.prototype.forEach.call(photos.files, function (f) {
      var li = document.createElement('li');
      li.textContent = f.name + ' (' + Math.round(f.size / 1024) + ' KB)';
      list.appendChild(li);
    });
  });
  function shrink(file) {
    if (file.size < 1500000 || !window.createImageBitmap) { return Promise.resolve(file); }
    return createImageBitmap(file, {imageOrientation: 'from-image'}).then(function (bitmap) {
      var scale = Math.min(1, 2048 / Math.max(bitmap.width, bitmap.height)), canvas = document.createElement('canvas');
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob && blob.size < file.size
            ? new File([blob], file.name.replace(/\.[^.]*$/, '') + '.jpg', {type: 'image/jpeg'}) : file);
        }, 'image/jpeg', 0.85);
      });
    }).catch(function () { return file; });  // not a picture the browser can read: the server will say so
  }
  form.addEventListener('submit', function (ev) {
    submit.disabled = true;
    var files = Array.prototype.slice.call(photos.files || []);
    if (!files.length || !window.DataTransfer) { return; }
    ev.preventDefault();
    Promise.all(files.map(shrink)).then(function (smaller) {
      var transfer = new DataTransfer();
      smaller.forEach(function (f) { transfer.items.add(f); });
      photos.files = transfer.files;
      form.submit();
    });
  });
}());
