"""Caption templates: how a label ("Hund", "dog") becomes training captions.

Many wordings per language, so the denoiser learns that the label carries the meaning and the
words around it do not (a paraphrase the model never saw should still land on the emoji). The
held-out wordings `lab eval` tests (src/bin/lab/evaluate.rs HELD_OUT_*) each have a word that no
template has: "suche", "Porträt", "looking" and "portrait" appear in no template ("zeig mir …"
and "show me …" are trained: they are what people type).
Imports nothing, so convert_text_encoder.py (run without torch) can read it.
"""

TEMPLATES = {
    "en": [
        "{}", "an emoji of {}", "a picture of {}", "a photo of {}", "an icon of {}", "a symbol for {}",
        "emoji: {}", "the {} emoji", "{} emoji", "an image of {}", "a small picture of {}",
        "a colourful picture of {}", "an illustration of {}", "a sticker of {}", "a cartoon of {}",
        "paint {}", "please paint {}", "create an image of {}", "generate {}", "I would like to see {}",
        "can you make {}", "what does {} look like", "{}, please", "a cute {}", "here is {}",
        "a nice picture of {}", "a simple picture of {}", "a tiny icon of {}", "a flat icon of {}",
        "a digital image of {}", "an artwork of {}", "a painting of {}", "a sketch of {}",
        "a doodle of {}", "a graphic of {}", "clip art of {}", "{} icon", "{} picture",
        "{} on a white background", "a single {}", "just {}", "make a picture of {}",
        "please generate {}", "render {}", "depict {}", "I want {}", "I want to see {}",
        "let us see {}", "can I see {}", "could you paint {}", "picture: {}", "emoji of {}",
        "look, {}", "this is {}", "a cheerful image of {}", "an emoji that looks like {}",
        "something like {}", "I would like {}", "we need {}", "a little {}",
        # requests with a pronoun, as people type them
        "show me {}", "please show me {}", "show {}", "can you show me {}", "a drawing of {}", "draw {}",
        "please draw {}", "draw me {}", "can you draw {}", "give me {}", "make me {}", "I need {}",
    ],
    "de": [
        "{}", "ein Emoji: {}", "ein Bild von {}", "ein Foto von {}", "ein Icon: {}", "ein Symbol für {}",
        "Emoji: {}", "das Emoji {}", "{} als Emoji", "eine Grafik von {}", "ein kleines Bild von {}",
        "ein buntes Bild von {}", "eine Illustration von {}", "ein Sticker: {}", "ein Comic von {}",
        "male {}", "bitte male {}", "erstelle ein Bild von {}", "generiere {}", "ich möchte {} sehen",
        "kannst du {} machen", "wie sieht {} aus", "{}, bitte", "ein süßes Bild: {}", "hier ist {}",
        "ein schönes Bild von {}", "ein einfaches Bild von {}", "ein winziges Icon: {}", "ein flaches Icon: {}",
        "ein digitales Bild von {}", "ein Kunstwerk: {}", "ein Gemälde von {}", "eine Skizze von {}",
        "ein Gekritzel: {}", "eine Grafik: {}", "Clipart: {}", "{} Icon", "{} Bild",
        "{} auf weißem Hintergrund", "ein einzelnes Symbol: {}", "nur {}", "mach ein Bild von {}",
        "bitte generiere {}", "erzeuge {}", "stelle {} dar", "ich will {}", "ich will {} sehen",
        "lass uns {} sehen", "kann ich {} sehen", "könntest du {} malen", "Bild: {}", "Emoji von {}",
        "schau, {}", "das ist {}", "ein fröhliches Bild von {}", "ein Emoji, das wie {} aussieht",
        "so etwas wie {}", "ich hätte gern {}", "wir brauchen {}", "ein kleines {}",
        # Bitten mit Pronomen, wie man sie tippt
        "zeig mir {}", "zeige mir {}", "zeig {}", "bitte zeig mir {}", "kannst du mir {} zeigen",
        "eine Zeichnung von {}", "zeichne {}", "bitte zeichne {}", "zeichne mir {}", "kannst du {} zeichnen",
        "gib mir {}", "mach mir {}",
    ],
}
STYLE_TEMPLATES = {"en": "{} in {} style", "de": "{} im {}-Stil"}


def captions_for(labels, style=None):
    """Every training caption of one image: each template in each language, and with `style`
    (more than one image source) one caption per language naming the style."""
    out = []
    for lang, label in labels.items():
        label = label.strip()
        out += [t.format(label) for t in TEMPLATES[lang]]
        if style:
            out.append(STYLE_TEMPLATES[lang].format(label, style[lang]))
    return out


def template_words():
    """The words of all templates (the text encoder's vocabulary keeps their word pieces)."""
    texts = [t.format("") for ts in TEMPLATES.values() for t in ts] + list(STYLE_TEMPLATES.values())
    return " ".join(t.replace("{}", "") for t in texts)
