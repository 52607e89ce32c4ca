"""Identity metric: face-api's 128-d face recogniser ported to PyTorch, and its distance.

    from avatar_ml.identity import IdentityEmbedder, identity_distance
    emb = IdentityEmbedder()
    d = emb.embed([frame_a, frame_b], landmarks=[lm_a, lm_b])   # (2,128)
    identity_distance(d[0], d[1])                               # < 0.6: same person
"""

from .embedder import (EMBEDDING_SIZE, SAME_PERSON_THRESHOLD, IdentityEmbedder,
                       identity_distance, identity_distances)

__all__ = ["EMBEDDING_SIZE", "SAME_PERSON_THRESHOLD", "IdentityEmbedder", "identity_distance",
           "identity_distances"]
