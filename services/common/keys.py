"""Signing keys for people's tokens: create one, publish its public half in the JWKS file.

`python -m services.common.keys new --dir DIR` writes `DIR/signing-<kid>.pem` (private,
mode 600), points `DIR/current.pem` at it, and adds the public key to `DIR/jwks.json`,
keeping the keys already there, so tokens signed by the previous key stay valid until they
expire. `ensure` does the same only when the directory has no current key yet.
"""

import argparse
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

JWKS_NAME = "jwks.json"
CURRENT_NAME = "current.pem"


def new_key(directory: Path) -> tuple[str, Path]:
    """Create a signing key in `directory`; return its key id and private key file."""
    directory.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    kid = key_id(private)
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
    current = directory / CURRENT_NAME
    current.unlink(missing_ok=True)
    current.symlink_to(key_file.name)
    return kid, key_file


def key_id(private: Ed25519PrivateKey) -> str:
    """The key id: a thumbprint of the public key, so it never depends on file names."""
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:16]


def load_signing_key(key_file: Path) -> tuple[str, Any]:
    """The key id and the private key."""
    private = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"{key_file} is not an Ed25519 private key")
    return key_id(private), private


def drop_key(directory: Path, kid: str) -> None:
    """Remove a retired public key from the JWKS file (after its tokens have expired)."""
    jwks_file = directory / JWKS_NAME
    document = json.loads(jwks_file.read_text())
    document["keys"] = [key for key in document["keys"] if key.get("kid") != kid]
    jwks_file.write_text(json.dumps(document, indent=2))


def main() -> None:
    """Command line: `new --dir DIR` or `drop --dir DIR --kid KID`."""
    parser = argparse.ArgumentParser(prog="python -m services.common.keys")
    parser.add_argument("command", choices=["new", "ensure", "drop"])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--kid")
    arguments = parser.parse_args()
    if arguments.command == "ensure" and (arguments.dir / CURRENT_NAME).exists():
        print(f"signing key present in {arguments.dir}")
    elif arguments.command in ("new", "ensure"):
        kid, key_file = new_key(arguments.dir)
        print(f"AUTH_SIGNING_KEY_FILE={key_file}")
        print(f"AUTH_JWKS_FILE={arguments.dir / JWKS_NAME}")
        print(f"kid={kid}")
    else:
        drop_key(arguments.dir, arguments.kid)


if __name__ == "__main__":
    main()
