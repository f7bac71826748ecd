"""Moving comments in and out: imports from WordPress and Disqus exports and
from our own export, the export of a site, and a reader's data request (export
and erasure of one e-mail's comments). See docs/import.md."""
