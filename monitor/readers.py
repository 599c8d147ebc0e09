"""Imported by the readers' forkserver before it forks a reader: what every reader loads
anyway (the reading code, the parsers and the language model), loaded once, so that the
readers share those pages with it instead of each holding a copy.

Importing this module is for that process alone; nothing else imports it.
"""

import gc

import monitor.ingest.document  # the parsers, which `monitor.reading` imports late
import monitor.reading  # noqa: F401  # the libraries a reader uses, imported once
from monitor.engine.langmodel import keep_model

keep_model()
# what is loaded so far is never collected: the collector, walking it in a reader, would
# write to every object it visits and so make the reader copy the pages it shares
gc.collect()
gc.freeze()
