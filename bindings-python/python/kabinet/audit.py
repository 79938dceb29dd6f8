"""Offline verification of journal proofs (S4): needs only the public key and the proof."""

from ._kabinet import audit_verify_consistency_proof as verify_consistency_proof
from ._kabinet import audit_verify_inclusion_proof as verify_inclusion_proof

__all__ = ["verify_consistency_proof", "verify_inclusion_proof"]
