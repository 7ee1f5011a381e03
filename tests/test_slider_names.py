"""Sliders named by what they do (explorer/explore/slider_names.py), a presenter's own names in the
recipe and the link (explorer/explore/recipe.py), and the labels the Explore tab shows."""
from __future__ import annotations

import json

import pytest
import torch

from explorer.core.latent import sample_z
from explorer.core.validation import UserError
from explorer.explore.directions import Directions
from explorer.explore.recipe import Recipe
from explorer.explore.slider_names import effect_names
from explorer.ui.slider_labels import typed_names

NAMES = ["T-shirt", "Trouser", "Bag"]


def plain_directions(dim=4, k=3) -> Directions:
    return Directions(torch.eye(dim)[:k], torch.tensor([0.5, 0.3, 0.2]), torch.zeros(dim), torch.ones(k), NAMES)


def judge(z: torch.Tensor) -> torch.Tensor:
    """Direction 1 goes from Trouser (−) to Bag (+); direction 2 makes Bag at its + end and a muddle of
    all three classes at its − end; direction 3 changes nothing the judge sees (T-shirt elsewhere)."""
    p = torch.zeros(len(z), 3)
    cls = torch.zeros(len(z), dtype=torch.long)
    muddle = z[:, 1] < -1.5
    cls[muddle] = torch.bucketize(z[muddle, 3], torch.tensor([-0.43, 0.43]))
    cls[z[:, 0] < -1.5] = 1
    cls[z[:, 0] > 1.5] = 2
    cls[z[:, 1] > 1.5] = 2
    p[torch.arange(len(z)), cls] = 1
    return p


def test_a_direction_is_named_by_the_classes_at_its_ends():
    names = effect_names(plain_directions(), judge, NAMES, 3, lambda n, seed: sample_z(n, 4, seed))
    assert names[0] == "Trouser ↔ Bag"
    assert names[1] == "more like Bag →"
    assert names[2] == ""                 # the same class at both ends: no name rather than a wrong one


def test_a_presenters_names_travel_in_the_recipe_and_are_checked(shared_app):
    ws = shared_app.ws
    r = ws.recipe({"model": "tiny_gan", "seed": 2, "names": ["Sleeve  length", "", "<b>bold</b>", ""]})
    assert r.names == ("Sleeve length", "", "<b>bold</b>")         # one line each, trailing empties dropped
    again = ws.recipe(r.to_text())
    assert again == r and json.loads(r.to_text())["names"] == list(r.names)
    assert "names" not in Recipe("tiny_gan").to_dict()              # no names: the link stays as it was
    for bad, words in ((["x" * 41], "at most 40"), ("Sleeve", "list of text"), ([3], "must be text"),
                       ([""] * 50, "can take")):
        with pytest.raises(UserError, match=words):
            ws.recipe({"model": "tiny_gan", "names": bad})


def test_the_names_box_reads_one_name_per_line():
    assert typed_names("Sleeve\n\n  Heel   height \n\n") == ["Sleeve", "", "Heel height"]
    assert typed_names(None) == []


def test_the_sliders_wear_the_names(shared_app):
    from explorer.ui.explore_tab import ExploreTab
    tab = ExploreTab(shared_app.ws)
    state = tab.state_for(shared_app.ws.recipe({"model": "fashion_vae2", "names": ["", "Shirt or boot"]}))
    labels = [u.get("label") for u in state["sliders"][:2]]
    assert labels[0].startswith("Direction 1") and labels[1].startswith("Shirt or boot (Direction 2")
    assert state["names"] == "\nShirt or boot"
    renamed = tab.rename("fashion_vae2", "Width")["sliders"]
    assert renamed[0]["label"].startswith("Width (Direction 1") and renamed[1]["label"].startswith("Direction 2")
    shown = tab.show("fashion_vae2", None, 0, 1.0, None, "", 0.0, [0.0, 0.0], names="Width")
    assert json.loads(shown["recipe"])["names"] == ["Width"]        # the link carries it
