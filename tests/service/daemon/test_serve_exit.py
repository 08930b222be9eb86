"""The daemon's last step: it exits with code 0 while a thread is still inside ONNX Runtime (the index writer cut at
the stop deadline mid-embedding), where Python 3.11's own exit aborts the process with SIGABRT now and then."""

import subprocess
import sys
import textwrap

from vaultrag.ingest.embedder import BUNDLED_MODEL, locate_model
from vaultrag.ingest.onnx_export import onnx_file

CHILD = textwrap.dedent("""
    import sys, threading, time
    import numpy as np, onnxruntime as ort
    from vaultrag.service.daemon.index_writer import WRITER_THREAD
    from vaultrag.service.daemon.serve import _leave_stragglers

    session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
    feed = {i.name: np.ones((64, 256), dtype=np.int64) for i in session.get_inputs()}
    ran = threading.Event()

    def embed_forever():
        while True:
            session.run(None, feed)
            ran.set()

    threading.Thread(target=embed_forever, name=WRITER_THREAD, daemon=True).start()
    ran.wait(60)
    _leave_stragglers(time.monotonic())
    print("not reached")
""")


def test_exit_with_the_writer_inside_onnx_runtime_is_code_0_and_says_so():
    model = onnx_file(locate_model(BUNDLED_MODEL), "fp32")
    for _ in range(3):  # the abort it guards against came about one exit in five
        done = subprocess.run([sys.executable, "-c", CHILD, str(model)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "not reached" not in done.stdout
        assert "exiting without 1 thread(s) still at work (index-writer)" in done.stderr
