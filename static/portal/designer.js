/* The process designer: bpmn-js (or dmn-js) served by the portal, a small properties panel for user
   tasks (form key, deadline, case status), save as draft with conflict detection, download, upload,
   check before publishing. Everything it loads comes from the portal itself. */
(function () {
  "use strict";
  const root = document.getElementById("designer");
  const cfg = JSON.parse(root.dataset.config);
  const csrf = root.dataset.csrf;
  const status = document.getElementById("designer-status");
  const problemsBox = document.getElementById("designer-problems");
  let revision = cfg.revision;
  let dirty = false;
  let modeler;

  function say(text, kind) {
    status.className = "alert alert-" + (kind || "info");
    status.textContent = text;
    status.style.display = text ? "block" : "none";
  }

  function markDirty() {
    dirty = true;
    document.getElementById("designer-dirty").style.display = "inline";
  }

  /* SpiffWorkflow reads a multi-instance task's loopDataInputRef / loopDataOutputRef as the name of a
     task-data variable; the BPMN model wants the id of a data element there, so bpmn-js drops the
     unresolved reference on export. Keep them by task id and put them back into what is saved. */
  const BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL";
  let loopRefs = {};

  function collectLoopRefs(xml) {
    const refs = {};
    const doc = new DOMParser().parseFromString(xml, "application/xml");
    Array.from(doc.getElementsByTagNameNS(BPMN_NS, "multiInstanceLoopCharacteristics")).forEach((mi) => {
      const task = mi.parentNode && mi.parentNode.getAttribute("id");
      const text = (name) => { const el = mi.getElementsByTagNameNS(BPMN_NS, name)[0]; return el ? el.textContent : null; };
      if (task) { refs[task] = { loopDataInputRef: text("loopDataInputRef"), loopDataOutputRef: text("loopDataOutputRef") }; }
    });
    return refs;
  }

  function restoreLoopRefs(xml) {
    if (!Object.keys(loopRefs).length) { return xml; }
    const doc = new DOMParser().parseFromString(xml, "application/xml");
    Array.from(doc.getElementsByTagNameNS(BPMN_NS, "multiInstanceLoopCharacteristics")).forEach((mi) => {
      const task = mi.parentNode && mi.parentNode.getAttribute("id");
      const kept = loopRefs[task];
      if (!kept) { return; }
      const prefix = mi.prefix ? mi.prefix + ":" : "";
      const later = ["inputDataItem", "outputDataItem", "complexBehaviorDefinition", "completionCondition",
                     "oneBehaviorEventRef", "noneBehaviorEventRef"];
      ["loopDataOutputRef", "loopDataInputRef"].forEach((name) => {
        if (!kept[name] || mi.getElementsByTagNameNS(BPMN_NS, name).length) { return; }
        const el = doc.createElementNS(BPMN_NS, prefix + name);
        el.textContent = kept[name];
        const before = Array.from(mi.children).find((c) => later.includes(c.localName) ||
                                                         (name === "loopDataInputRef" && c.localName === "loopDataOutputRef"));
        mi.insertBefore(el, before || null);
      });
    });
    return new XMLSerializer().serializeToString(doc);
  }

  async function currentXml() {
    const { xml } = await modeler.saveXML({ format: true });
    return cfg.kind === "bpmn" ? restoreLoopRefs(xml) : xml;
  }

  async function importXml(xml) {
    if (cfg.kind === "bpmn") { loopRefs = collectLoopRefs(xml); }
    if (cfg.kind === "dmn") {
      await modeler.importXML(xml);
      const views = modeler.getViews();
      const table = views.find((v) => v.type === "decisionTable");
      if (table) { await modeler.open(table); }
    } else {
      await modeler.importXML(xml);
      modeler.get("canvas").zoom("fit-viewport");
    }
  }

  /* ---- the properties of a user task ------------------------------------------------------- */
  const panel = document.getElementById("designer-properties");

  function spiffProps(bo) {
    const ext = bo.extensionElements;
    const holder = ext && (ext.values || []).find((v) => v.$type === "spiffworkflow:Properties");
    const out = {};
    (holder && holder.properties || []).forEach((p) => { out[p.name] = p.value; });
    return out;
  }

  function setSpiffProp(element, name, value) {
    const moddle = modeler.get("moddle");
    const modeling = modeler.get("modeling");
    const bo = element.businessObject;
    let ext = bo.extensionElements;
    if (!ext) { ext = moddle.create("bpmn:ExtensionElements", { values: [] }); }
    let holder = (ext.values || []).find((v) => v.$type === "spiffworkflow:Properties");
    if (!holder) {
      holder = moddle.create("spiffworkflow:Properties", { properties: [] });
      ext.values = (ext.values || []).concat([holder]);
      holder.$parent = ext;
    }
    const kept = (holder.properties || []).filter((p) => p.name !== name);
    if (value) {
      const prop = moddle.create("spiffworkflow:Property", { name: name, value: value });
      prop.$parent = holder;
      kept.push(prop);
    }
    holder.properties = kept;
    modeling.updateProperties(element, { extensionElements: ext });
  }

  function laneOf(element) {
    const registry = modeler.get("elementRegistry");
    const lanes = registry.filter((e) => e.type === "bpmn:Lane");
    const cx = element.x + element.width / 2, cy = element.y + element.height / 2;
    const lane = lanes.find((l) => cx >= l.x && cx <= l.x + l.width && cy >= l.y && cy <= l.y + l.height);
    return lane ? (lane.businessObject.name || "") : "";
  }

  function option(value, label, selected) {
    const o = document.createElement("option");
    o.value = value; o.textContent = label; o.selected = selected;
    return o;
  }

  function showProperties(element) {
    panel.innerHTML = "";
    if (!element || element.type !== "bpmn:UserTask") {
      panel.innerHTML = "<p class='text-muted'>" + cfg.text.selectTask + "</p>";
      return;
    }
    const props = spiffProps(element.businessObject);
    const lane = laneOf(element);
    const roles = cfg.lanes[lane];
    const html = [
      "<h5>" + cfg.text.userTask + ": <code>" + element.id + "</code></h5>",
      "<div class='form-group'><label>" + cfg.text.name + "</label><input id='prop-name' class='form-control'></div>",
      "<div class='form-group'><label>" + cfg.text.formKey + "</label><select id='prop-formKey' class='form-control'></select></div>",
      "<div class='form-group'><label>" + cfg.text.lane + "</label><p id='prop-lane' class='form-control-static'></p></div>",
      "<div class='form-group'><label>" + cfg.text.deadline + "</label><select id='prop-deadline' class='form-control'></select>",
      "<input id='prop-dueAfter' class='form-control' placeholder='P3D / PT4H' style='margin-top:4px'>",
      "<span class='help-block'>" + cfg.text.deadlineHelp + "</span></div>",
    ];
    if (cfg.statuses.length) {
      html.push("<div class='form-group'><label>" + cfg.text.caseStatus + "</label><select id='prop-caseStatus' class='form-control'></select></div>");
    }
    panel.innerHTML = html.join("");
    const name = document.getElementById("prop-name");
    name.value = element.businessObject.name || "";
    name.addEventListener("change", () => { modeler.get("modeling").updateLabel(element, name.value); markDirty(); });

    const formKey = document.getElementById("prop-formKey");
    formKey.appendChild(option("", cfg.text.chooseForm, !props.formKey));
    let known = false;
    cfg.forms.forEach((f) => {
      known = known || f.key === props.formKey;
      formKey.appendChild(option(f.key, f.label + " (" + f.key + ")", f.key === props.formKey));
    });
    if (props.formKey && !known) { formKey.appendChild(option(props.formKey, props.formKey + " ⚠", true)); }
    formKey.addEventListener("change", () => { setSpiffProp(element, "formKey", formKey.value); markDirty(); });

    const laneBox = document.getElementById("prop-lane");
    laneBox.textContent = lane ? (lane + " → " + (roles && roles.length ? roles.join("、") : cfg.text.noRole)) : cfg.text.noLane;
    if (!roles || !roles.length) { laneBox.className = "form-control-static text-danger"; }

    const deadline = document.getElementById("prop-deadline");
    const dueAfter = document.getElementById("prop-dueAfter");
    const mode = props.dueAfter ? "after" : (props.caseDeadline ? "case" : "none");
    deadline.appendChild(option("none", cfg.text.noDeadline, mode === "none"));
    deadline.appendChild(option("after", cfg.text.dueAfter, mode === "after"));
    deadline.appendChild(option("case", cfg.text.caseDeadline, mode === "case"));
    dueAfter.value = props.dueAfter || "";
    dueAfter.style.display = mode === "after" ? "block" : "none";
    deadline.addEventListener("change", () => {
      dueAfter.style.display = deadline.value === "after" ? "block" : "none";
      setSpiffProp(element, "caseDeadline", deadline.value === "case" ? "true" : "");
      if (deadline.value !== "after") { setSpiffProp(element, "dueAfter", ""); }
      markDirty();
    });
    dueAfter.addEventListener("change", () => { setSpiffProp(element, "dueAfter", dueAfter.value.trim()); markDirty(); });

    const caseStatus = document.getElementById("prop-caseStatus");
    if (caseStatus) {
      caseStatus.appendChild(option("", cfg.text.keepStatus, !props.caseStatus));
      cfg.statuses.forEach((s) => caseStatus.appendChild(option(s.value, s.label, s.value === props.caseStatus)));
      caseStatus.addEventListener("change", () => { setSpiffProp(element, "caseStatus", caseStatus.value); markDirty(); });
    }
  }

  /* ---- toolbar ----------------------------------------------------------------------------- */
  async function save() {
    const xml = await currentXml();
    const resp = await fetch(cfg.urls.save, {
      method: "POST", body: xml,
      headers: { "Content-Type": "application/xml", "X-CSRFToken": csrf, "X-Base-Revision": String(revision) },
    });
    const data = await resp.json();
    if (!resp.ok) { say(data.message, "danger"); showProblems(data.problems || []); return false; }
    revision = data.revision;
    document.getElementById("publish-revision").value = revision;
    dirty = false;
    document.getElementById("designer-dirty").style.display = "none";
    say(data.message, "success");
    return true;
  }

  function showProblems(problems) {
    problemsBox.innerHTML = "";
    if (!problems.length) { return; }
    const list = document.createElement("ul");
    list.className = "list-unstyled";
    problems.forEach((p) => {
      const li = document.createElement("li");
      li.className = "text-danger problem";
      li.textContent = [p.file, p.line ? cfg.text.line + " " + p.line : "", p.element, p.message].filter(Boolean).join(" · ");
      if (p.element && cfg.kind === "bpmn") {
        li.style.cursor = "pointer";
        li.addEventListener("click", () => {
          const el = modeler.get("elementRegistry").get(p.element);
          if (el) { modeler.get("selection").select(el); modeler.get("canvas").scrollToElement(el); }
        });
      }
      list.appendChild(li);
    });
    problemsBox.appendChild(list);
  }

  async function check() {
    const resp = await fetch(cfg.urls.check, {
      method: "POST", body: await currentXml(),
      headers: { "Content-Type": "application/xml", "X-CSRFToken": csrf },
    });
    const data = await resp.json();
    showProblems(data.problems || []);
    say(data.message, data.problems && data.problems.length ? "danger" : "success");
  }

  async function download() {
    const blob = new Blob([await currentXml()], { type: "application/xml" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = cfg.file;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function upload(file) {
    const reader = new FileReader();
    reader.onload = async () => {
      try {
        await importXml(reader.result);
        markDirty();
        say(cfg.text.uploaded, "info");
      } catch (err) {
        say(cfg.text.uploadFailed + " " + err.message, "danger");
      }
    };
    reader.readAsText(file, "utf-8");
  }

  async function start() {
    const resp = await fetch(cfg.urls.load);
    const data = await resp.json();
    revision = data.revision;
    document.getElementById("publish-revision").value = revision;
    if (cfg.kind === "dmn") {
      modeler = new DmnJS({ container: "#canvas", common: { keyboard: { bindTo: window } } });
      await importXml(data.xml);
      modeler.on("views.changed", () => {});
      const active = modeler.getActiveViewer();
      if (active) { active.on("elements.changed", markDirty); }
    } else {
      const moddle = await (await fetch(cfg.urls.moddle)).json();
      modeler = new BpmnJS({ container: "#canvas", keyboard: { bindTo: window },
                             moddleExtensions: { spiffworkflow: moddle } });
      await importXml(data.xml);
      modeler.on("commandStack.changed", markDirty);
      modeler.on("selection.changed", (e) => showProperties(e.newSelection.length === 1 ? e.newSelection[0] : null));
      showProperties(null);
    }
    window.portalModeler = modeler;  // for the browser tests and the console
    root.dataset.ready = "1";
  }

  document.getElementById("designer-save").addEventListener("click", save);
  document.getElementById("designer-check").addEventListener("click", check);
  document.getElementById("designer-download").addEventListener("click", download);
  document.getElementById("designer-upload").addEventListener("change", (e) => { if (e.target.files[0]) { upload(e.target.files[0]); } });
  document.getElementById("publish-form").addEventListener("submit", async (e) => {
    if (dirty) {
      e.preventDefault();
      if (await save()) { e.target.submit(); }
    }
  });
  window.addEventListener("beforeunload", (e) => { if (dirty) { e.preventDefault(); e.returnValue = ""; } });
  start().catch((err) => say(err.message, "danger"));
})();
