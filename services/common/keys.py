"""Signing keys for people's tokens: create one, publish its public half in the JWKS file.

`python -m services.common.keys new --dir DIR` writes `DIR/signing-<kid>.pem` (private,
mode 600) and adds the public key to `DIR/jwks.json`, keeping the keys already there, so
tokens signed by the previous key stay valid until they expire.
"""

import argparse
import json
import os
import secrets
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

JWKS_NAME = "jwks.json"


def new_key(directory: Path) -> tuple[str, Path]:
    """Create a signing key in `directory`; return its key id and private key file."""
    directory.mkdir(parents=True, exist_ok=True)
    kid = secrets.token_hex(8)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_file = directory / f"signing-{kid}.pem"
    key_file.write_bytes(pem)
    os.chmod(key_file, 0o600)
    jwks_file = directory / JWKS_NAME
    document = json.loads(jwks_file.read_text()) if jwks_file.exists() else {"keys": []}
    public_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
    document["keys"].append({**public_jwk, "kid": kid, "use": "sig", "alg": "EdDSA"})
    jwks_file.write_text(json.dumps(document, indent=2))
    return kid, key_file


def load_signing_key(key_file: Path) -> tuple[str, Any]:
    """The key id (from the file name) and the private key."""
    kid = key_file.stem.removeprefix("signing-")
    return kid, serialization.load_pem_private_key(key_file.read_bytes(), password=None)


def drop_key(directory: Path, kid: str) -> None:
    """Remove a retired public key from the JWKS file (after its tokens have expired)."""
    jwks_file = directory / JWKS_NAME
    document = json.loads(jwks_file.read_text())
    document["keys"] = [key for key in document["keys"] if key.get("kid") != kid]
    jwks_file.write_text(json.dumps(document, indent=2))


def main() -> None:
    """Command line: `new --dir DIR` or `drop --dir DIR --kid KID`."""
    parser = argparse.ArgumentParser(prog="python -m services.common.keys")
    parser.add_argument("command", choices=["new", "drop"])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--kid")
    arguments = parser.parse_args()
    if arguments.command == "new":
        kid, key_file = new_key(arguments.dir)
        print(f"AUTH_SIGNING_KEY_FILE={key_file}")
        print(f"AUTH_JWKS_FILE={arguments.dir / JWKS_NAME}")
        print(f"kid={kid}")
    else:
        drop_key(arguments.dir, arguments.kid)


if __name__ == "__main__":
    main()
