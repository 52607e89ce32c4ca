"""Texts for synthetic speech: phonetically varied English sentences, plus random recombinations
of their words (so the synthesiser is not limited to a few dozen fixed utterances)."""

from __future__ import annotations

import numpy as np

SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.",
    "The girl at the booth sold fifty bonds.",
    "The small pup gnawed a hole in the sock.",
    "Would you please move the meeting to Monday morning?",
    "We measured the voltage before opening the panel.",
    "My mother bought a bumper pack of paper plates.",
    "Oh, wow, you should really look at the view from over there!",
    "Which way should we walk when the bridge is closed?",
    "I think the budget vote will happen early next week.",
    "Thank you all for joining the call this afternoon.",
    "Peter Piper picked a peck of pickled peppers.",
    "She sells sea shells by the sea shore.",
    "Beautiful blue balloons floated above the busy market.",
    "Everybody agreed that the movie was much too long.",
    "Please remember to bring your umbrella on Thursday.",
    "How much wood would a woodchuck chuck?",
    "The committee approved the amendment by a wide margin.",
    "Our representatives must answer to the voters at home.",
    "I'm honoured to be here, and I want to thank my family.",
    "Zebras and giraffes roam the wide open plains.",
    "Judge the quality of the work, not the speed.",
    "Eight oval mirrors hung above the old oak table.",
    "Fresh fruit and warm bread were waiting for us.",
]


def random_text(rng: np.random.Generator) -> str:
    if rng.random() < 0.5:
        k = int(rng.integers(1, 3))
        return " ".join(SENTENCES[i] for i in rng.choice(len(SENTENCES), k, replace=False))
    words = " ".join(SENTENCES).replace(",", "").replace(".", "").replace("?", "").replace("!", "").split()
    n = int(rng.integers(6, 16))
    picked = [words[i] for i in rng.integers(0, len(words), n)]
    # pauses mid-sentence now and then
    out = []
    for w in picked:
        out.append(w)
        if rng.random() < 0.12:
            out[-1] += ","
    return " ".join(out).capitalize() + "."
