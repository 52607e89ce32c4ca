"""Offline side of avatar-call: landmarks, teacher renderer, evaluation, training, export."""
