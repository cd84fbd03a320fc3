"""The reads for screens: results and their public documents, marks and progress, certificates.

Queries read; they never write. They ask policy what is expected and rules what it adds
up to."""
