import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# scripts/ holds the notebook runner that the tests check and reuse.
sys.path.insert(0, str(ROOT / "scripts"))
