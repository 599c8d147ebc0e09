"""Imported by the readers' forkserver before it forks a reader: what every reader loads
anyway (the reading code and its libraries, the language model), loaded once, so that the
readers share those pages with it instead of each holding a copy.

Importing this module is for that process alone; nothing else imports it.
"""

import monitor.reading  # noqa: F401  # the libraries a reader uses, imported once
from monitor.engine.language import keep_model

keep_model()
