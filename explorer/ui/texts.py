"""Plain words for non-experts: one place for every explanation and tooltip the UI shows."""
from explorer.live.session import ABANDON_AFTER_S

TITLE = "Latent Explorer"
TAGLINE_SHORT = "Move a point in a model's latent space and watch the picture change."
TAGLINE = ("Generative models turn a short list of numbers (a point in their *latent space*) into a picture. "
           "Move the point and watch the picture change.")

EXPLORE = (
    "Every picture here is made by the model from a short list of random numbers, its **latent vector**. "
    "The sliders move that point along the directions in which the model's pictures vary the most, so "
    "each slider tends to change one visible property (shape, brightness, thickness…). "
    "The percentage on a slider says how much of all the variation that direction accounts for."
)
INTERPOLATE = (
    "Pick two points and walk from one to the other. The **straight line** (linear) is the obvious path; "
    "the **great-circle** path (spherical, *slerp*) keeps the point as far from the centre as random points "
    "usually are. Random points almost never lie near the centre, so where the straight path passes close to "
    "it its middle pictures can look faded or generic, while the spherical path stays among typical pictures. "
    "How big the difference is depends on the two ends: the plot below says it for the pair you chose."
)
NORM_SENTENCE = (
    "Random latent vectors have a length close to √(number of dimensions) (the dashed line). A straight path "
    "between two of them is shorter in the middle; the spherical path keeps a typical length all the way."
)
MAP = (
    "Each dot is one picture, placed so that pictures the model considers similar sit close together "
    "(a UMAP projection of the model's latent space down to 2-D). Colours are the classes of the model's data. "
    "Hover to see a picture; click a dot to select it, then send it to Explore or use it as an "
    "interpolation end point."
)
MAP_GAN_NOTE = ("For a GAN the dots are pictures the model generated (it has no encoder to place real ones). "
                "They are arranged by what they look like to a separate classifier network, which also labels them.")
MAP_VAE_NOTE = "For a VAE the dots are {n:,} test pictures, placed where the model's encoder puts them."
MAP_ON_OPEN = "The map is drawn when you open this tab (a minute or so for a new model)."
MAP_2D_NOTE = "This model has only two latent numbers, so the map is its latent plane itself: no projection needed."
MAP_CVAE_NOTE = ("This model is told the class, so its latent numbers only hold the style (brightness, width, "
                 "pattern): the classes mix on this map, and that is the point: one style fits every class.")
MAP_CGAN_NOTE = ("This model is told which class to draw: each dot is one of its pictures, coloured by the class it "
                 "was asked for and arranged by what it looks like to a separate classifier network.")
CLASS_ROW = "The same latent numbers drawn as every class: the style stays, the class changes. Click one to draw it."
CONDITIONAL_EXPLORE = ("**Class-conditional model:** *Class* picks what it draws; the seed and sliders set "
                       "its style. The row under the picture draws the same style as every class.")
STYLE_EXPLORE = ("**Style-based model:** the random numbers first go through a *mapping network*, which turns them "
                 "into a **style** that every layer of the generator reads. The sliders move that style; beside each, "
                 "*It changes* limits it to the layers that set the **shape**, the **details** or the **colours** "
                 "and texture. The row under the picture mixes styles: this picture's shape with other seeds' details.")
INTERPOLATE_CONDITIONAL = ("A class-conditional model is told the class. Walk the **style** (two latent points, one class) or the "
                           "**class** (one latent point, the class blended from one class to another: the "
                           "pictures in between are mixtures no class name describes).")
MANIFOLD = ("This model has only two latent numbers, so its whole latent space fits on one sheet: each tile is "
            "the picture at that point of the plane. The orange circle is where you are; click a tile to go there.")

FINDING_DIRECTIONS = ("Finding this model's directions (the first time it is explored): its strip and sliders "
                      "come in a moment.")

AMOUNT_MEANS = ("Amount is the share of the way along that route: 0 leaves your picture, 0.5 goes halfway, 1 reaches "
                "the route's end.")

TIPS = {
    "model": "Which trained model makes the pictures. GANs draw sharper pictures; VAEs can also encode real ones.",
    "show_pixels": "Large pictures of the 64-pixel colour models are smoothed so they look like pictures; tick this "
                   "to see every pixel as a square instead (the 28-pixel grey models always show their pixels).",
    "upload": "Load your own model: a .safetensors checkpoint written by Latent Explorer, or your own decoder exported "
              "to ONNX (a .onnx file; at most 200 MB each).",
    "seed": "A whole number that picks the random starting point. The same seed always gives the same picture.",
    "surprise": "Pick a random seed.",
    "temperature": "How far from the centre of the latent space the seed's starting point is put. 1: a typical "
                   "random picture. Lower: plainer, more average pictures (a GAN's picture fades nearer the centre, so "
                   "its slider stops where the pictures can still be read). Higher: further out, unusual pictures. "
                   "The sliders move with it.",
    "slider": "Move along one of the model's main directions of variation, measured in standard deviations (σ).",
    "direction": "A direction with a name: from the average picture of one class towards another.",
    "amount": "How far along the route to the named class: 0 = your picture, 0.5 = halfway, 1 = the route's end, "
              "where the classifier that steers it is first 90% sure of the class (for “A ↔ B”, −1 is A's end).",
    "reset": "Back to the seed's own picture: all sliders where the seed puts them, no named direction.",
    "undo": "Back to the picture before your last change (model, seed, sliders, class…). Key: Ctrl+Z.",
    "present": "Presentation mode: the picture as large as the screen allows, big text, few controls. Key: P; Esc leaves.",
    "share": "A link that opens exactly this picture in another browser (model, seed, sliders, direction).",
    "recipe": "Everything that made this picture. Copy it to share; paste one and press Apply to get that picture back.",
    "raw": "The latent vector itself, one number per dimension, comma-separated. Edit and press Apply.",
    "class": "What a class-conditional model draws; the latent numbers keep the style.",
    "strip": "The picture at −3σ … +3σ along one direction, all else fixed; the framed one is where you are.",
    "frames": "How many pictures along each path (2 to 64).",
    "endpoint": "Where the path starts or ends: a seed, the current Explore picture, a dot picked on the Map, "
                "or (VAE) a test picture encoded by the model.",
    "endpoint_value": "The seed number, or the number of the test picture (0–9999).",
    "interpolate": "Make both paths between the start and the end.",
    "to_explore": "Open the selected dot's latent vector in the Explore tab to move it with the sliders.",
    "as_endpoint": "Use the selected dot as one end of the path in the Interpolate tab.",
}

TRAIN = (
    "A GAN is a game between a **forger** (the generator, G) and an **inspector** (the discriminator, D). "
    "The forger turns random noise into fakes; the inspector looks at real and fake examples and says how "
    "likely each one is to be real. Each improves by beating the other."
)
TRAIN_2D = (
    "**Black dots** are real data, **orange dots** the forger's fakes. The background is the inspector's "
    "verdict D(x): blue where it says *real*, red where it says *fake*. The grey mesh shows where the "
    "forger sends each patch of its random noise, and the small arrows show which way each fake is being "
    "pushed. When the forger wins, the fakes sit on the real data and D(x) and D(G(z)) both reach ½: where "
    "real and fake points mix, the background turns pale (½, the inspector can only guess). Far away from "
    "all points the colour may stay: no example ever lands there, so nothing teaches the inspector about it."
)
TRAIN_COLLAPSE = (
    "**Mode collapse:** sometimes the forger finds one or two spots the inspector accepts and sends all its "
    "fakes there, ignoring the rest of the real data (count the covered modes on the ring). The Wasserstein "
    "loss (WGAN-GP) gives the forger a useful signal even far from the data, which helps it spread out."
)
TRAIN_IMAGES = (
    "The grid shows the model's pictures (a GAN's forger, or a VAE's decoder) for the **same** 64 noise vectors throughout, so you watch the same "
    "pictures sharpen. FD (lower is better) and class coverage (1.0 = every class equally) are quick estimates "
    "on 500 pictures, measured every few hundred steps. A class-conditional run draws one row per class "
    "and also says how often the classifier sees the class the model was asked for."
)
TRAIN_OTHER_KIND = ("The trainer holds one run at a time, now {whose}: {description} ({state}). Its readings are on the "
                    "{tab} tab.")
# who controls a run, said in the Train tab (live/session.py decides it)
TRAIN_OTHERS_RUN = ("Another visitor started this run: only they can pause, stop or save it. It stops by itself within "
                    f"seconds of their page closing (or after {ABANDON_AFTER_S:.0f} s without a word from it), and then anyone may "
                    "start one.")
TRAIN_YOU_LEFT = ("Stopped at step {step:,} while this page was away (closed, or not heard from for "
                  f"{ABANDON_AFTER_S:.0f} s). You can still save it, or start again.")
TIPS.update({
    "train_mode": "2-D points train in a blink and show the whole game; images train a real picture model.",
    "toy_dataset": "The real data the forger must learn to imitate.",
    "loss": "Non-saturating: the usual choice. Original minimax: the paper's formula, which gives the forger weak "
            "signals early on. WGAN-GP: a critic scores realism; helps against mode collapse.",
    "lr_g": "How big the forger's (generator's) learning steps are.",
    "lr_d": "How big the inspector's (discriminator's) learning steps are.",
    "k": "How many inspector updates per forger update (Algorithm 1's k).",
    "batch": "How many real and fake examples each update looks at.",
    "noise": "How many random numbers the forger starts from.",
    "pace": "Demo pace: about 30 steps a second, slow enough to explain while it happens. Speed it up any time.",
    "save_title": "A name for the model in the model picker.",
    "conditional": "The forger (or the VAE's decoder) is told which kind of object to draw. Every row of the grid "
                   "is one class, every column one fixed noise vector: you see each class emerge, and the same "
                   "'style' down a column. A GAN then trains with the non-saturating or minimax loss.",
})

MODEL_SWITCHED = "Switched to {title}: every tab now shows this model."

# The guided tour: (title, what to say, tab to open). Each step opens its tab and never blocks a control.
TOUR = [
    ("1 · The forger and the inspector",
     "A GAN is two networks in a game. The **forger** turns random numbers into fakes; the **inspector** "
     "looks at real and fake examples and says how likely each is to be real. Press **Start** to watch them.",
     "train"),
    ("2 · The verdict heads for ½",
     "The two numbers D(x) (the inspector on real data) and D(G(z)) (on fakes) head for ½: when the fakes "
     "are good, the inspector can only guess. The background is its verdict, the arrows push each fake: "
     "**Show** switches the background, mesh and arrows one at a time.",
     "train"),
    ("3 · A latent space is a map of features",
     "Every picture is made from a short list of random numbers. Each slider moves that point along one of the "
     "model's main directions, named by what it changes (*Sneaker ↔ Sandal*) where the classifier can tell; "
     "rename one in your words. Drag one, click a picture in the strip to jump there, **Undo** (Ctrl+Z) to go back.",
     "explore"),
    ("4 · Named directions",
     "“More like Sneaker” is a direction too, found by asking a classifier what makes a sneaker. "
     "Choose one and drag **Amount**: the picture turns into that class.",
     "explore"),
    ("5 · Walking between two points",
     "Two pictures are two points. Walk from one to the other and every step on the way is a picture too: "
     "the model fills the gap smoothly.",
     "interpolate"),
    ("6 · Straight line or great circle",
     "The straight path passes closer to the centre, where the model rarely looked, so its middle can fade; "
     "the great circle (slerp) keeps a typical length. The plot shows the length along both paths.",
     "interpolate"),
    ("7 · The whole test set as a map",
     "Every dot is a picture; similar pictures sit together, and the colours are the ten kinds of clothes. "
     "Hover to see one, click to take it to Explore or Interpolate. **Find** a dot by number or class; the "
     "selection lists its nearest neighbours.",
     "map"),
    ("8 · Same style, another class",
     "This GAN is also told *what* to draw. Keep its random numbers and change only the class: the row under "
     "the picture shows the same brightness, width and pose as every kind of clothing. Click one to draw it.",
     "explore"),
    ("9 · Mode collapse, live",
     "Sometimes the forger finds a few spots the inspector accepts and sends every fake there. Try the "
     "**grid** data with a high forger learning rate: count the clusters that have fakes.",
     "train"),
    ("10 · Presenting",
     "**Present** (key P) turns the open tab into a projector view: the picture as large as the screen, the "
     "words big enough for the back row. With the tour closed, ← → change the seed, space plays or pauses "
     "training, the number keys open the tabs and Esc leaves.",
     "explore"),
]
# shown as step 9 (before mode collapse) when a colour model is installed (explorer/ui/tour.py)
TOUR_COLOUR = ("In colour",
               "This model draws colour pictures, every pixel a mix of red, green and blue. Everything you saw works "
               "the same way here: the sliders, the Map, interpolation and, for a model told the class, the class row. "
               "Large pictures are smoothed so they look like pictures; tick **Show the pixels** at the top to see the "
               "squares.",
               "explore")
TOUR_HELP = "← → keys walk the tour; the controls below stay free to use as you talk."
