"""Lowest layer: settings, hardware probe and model catalogue. Imports nothing from ingest/ or service/.

Every vaultrag module imports this package first, so Hugging Face's offline switches are on before any module can
import those libraries (config.offline)."""

from vaultrag.config.offline import stay_offline

stay_offline()
