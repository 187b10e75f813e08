"""The API document as code, without I/O: codes, envelope, models, paths, regions."""
