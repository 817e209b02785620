"""gunicorn's settings for the portal's app servers, read from the working directory: ``make run``,
``deploy/serve.sh`` and the benchmarks start gunicorn in the project's folder. Options given on the
command line or in ``GUNICORN_CMD_ARGS`` come on top."""
import gc


def post_worker_init(worker):
    """The portal is loaded: what it built at start (about 270,000 objects: models, views, compiled
    templates, process specs) lives as long as the process, so the garbage collector stops looking at
    it. A full collection then walks only what requests left behind, instead of taking 100-200 ms of
    one request's time every few hundred requests."""
    gc.freeze()
