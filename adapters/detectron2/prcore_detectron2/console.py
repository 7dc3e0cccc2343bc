"""What the command shows on stderr while torch and detectron2 run under it.

Importing torch 2.x and detectron2 0.6 raises deprecation warnings (``pkg_resources``,
``torch.jit.script``, ``torch.meshgrid``), and detectron2 and fvcore log warnings
through loggers that have no handler, so Python's last-resort handler prints them. A
failed command must print one line (the adapter README's promise), so the command, and
only the command (its entry point and the ranks it spawns, never a library import),
holds that output while it runs:

- Python warnings raised by torch, detectron2 and the like are ignored: they are about
  the libraries' own code, which the user cannot act on. prcore's warnings (about the
  results evaluated by ``--sweep``) are held. Processes started meanwhile (ranks,
  DataLoader workers) get ``PYTHONWARNINGS=ignore``. ``-W`` or ``PYTHONWARNINGS``
  given by the user still decide, and then warnings print as they come.
- Log records at WARNING and above (a checkpoint that does not fit the model, a config
  with no VERSION) are held, and printed once the run has succeeded; a failed run drops
  them, so its error is the only line.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from prcore.errors import PrcoreWarning

PROG = "prcore-detectron2"


class _HeldRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def held_library_output(replay: bool = True) -> Iterator[None]:
    """Hold warnings and log records for the block; show the ones that matter on success.

    Shown after a successful block, on stderr: prcore's own warnings (about the results
    being evaluated) and WARNING log records. ``replay=False`` drops them on success too
    (ranks other than 0, which would repeat rank 0's).
    """
    root = logging.getLogger()
    held = _HeldRecords()
    root.addHandler(held)
    caught: list[warnings.WarningMessage] = []
    user_filters = bool(sys.warnoptions)
    env_before = os.environ.get("PYTHONWARNINGS")
    if not user_filters:
        # Processes started meanwhile import torch and detectron2 afresh before any of
        # our code runs in them: the ranks, and their DataLoader workers, which the
        # "spawn" start method (a spawned rank's, macOS's) starts by unpickling
        # detectron2's dataset. Only the interpreter's own start-up filters reach them.
        os.environ["PYTHONWARNINGS"] = "ignore"
    try:
        with warnings.catch_warnings(record=not user_filters) as recorded:
            if not user_filters:
                warnings.simplefilter("ignore")
                warnings.simplefilter("always", PrcoreWarning)  # recorded, shown below
            yield
        caught = recorded or []
    finally:
        root.removeHandler(held)
        if not user_filters:
            if env_before is None:
                del os.environ["PYTHONWARNINGS"]
            else:
                os.environ["PYTHONWARNINGS"] = env_before
    # Reached only when the block succeeded: an exception skips the replay.
    if replay:
        for w in caught:
            print(f"{PROG}: warning: {w.message}", file=sys.stderr)
        for record in held.records:
            print(held.format(record), file=sys.stderr)
