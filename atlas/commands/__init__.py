"""One module per `atlas` command; each keeps heavy imports inside its function."""
