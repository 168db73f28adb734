"""How many bytes a request may send: FastAPI caps every body while it streams (declared or
chunked) and answers 413 before a handler, form parser or temporary file sees more.

The app's default is FORM_BYTES (log-in, curator edits, API calls carry no file); the tool
pages and the curator's upload take one file of at most MAX_UPLOAD_BYTES.
"""

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Multipart framing and the form's other fields around the one uploaded file.
UPLOAD_BODY_BYTES = MAX_UPLOAD_BYTES + 256 * 1024
FORM_BYTES = 256 * 1024
