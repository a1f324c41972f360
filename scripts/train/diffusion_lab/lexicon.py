"""Everyday nouns for the scene captions: the word a learner types for an emoji, with its plural
and, in German, its gender, so the grammar can write "zwei rote Äpfel" and "ein blaues Auto".

emojibase's labels name the emoji ("automobile", "red apple", "Hundegesicht"); these name the
thing. Concepts listed here are also drawn more often (scenes.py CORE_SHARE): they are what
people type first. Imports nothing, so convert_text_encoder.py can read it without torch.
Columns: hexcode | English | English plural | German | gender (m, f, n) | German plural
"""

NOUNS = """
1F415|dog|dogs|Hund|m|Hunde
1F436|puppy|puppies|Hündchen|n|Hündchen
1F408|cat|cats|Katze|f|Katzen
1F431|kitten|kittens|Kätzchen|n|Kätzchen
1F40E|horse|horses|Pferd|n|Pferde
1F404|cow|cows|Kuh|f|Kühe
1F416|pig|pigs|Schwein|n|Schweine
1F411|sheep|sheep|Schaf|n|Schafe
1F410|goat|goats|Ziege|f|Ziegen
1F42B|camel|camels|Kamel|n|Kamele
1F418|elephant|elephants|Elefant|m|Elefanten
1F401|mouse|mice|Maus|f|Mäuse
1F407|rabbit|rabbits|Hase|m|Hasen
1F43B|bear|bears|Bär|m|Bären
1F43C|panda|pandas|Panda|m|Pandas
1F428|koala|koalas|Koala|m|Koalas
1F405|tiger|tigers|Tiger|m|Tiger
1F981|lion|lions|Löwe|m|Löwen
1F98A|fox|foxes|Fuchs|m|Füchse
1F43A|wolf|wolves|Wolf|m|Wölfe
1F412|monkey|monkeys|Affe|m|Affen
1F414|chicken|chickens|Huhn|n|Hühner
1F413|rooster|roosters|Hahn|m|Hähne
1F424|chick|chicks|Küken|n|Küken
1F426|bird|birds|Vogel|m|Vögel
1F427|penguin|penguins|Pinguin|m|Pinguine
1F989|owl|owls|Eule|f|Eulen
1F986|duck|ducks|Ente|f|Enten
1F985|eagle|eagles|Adler|m|Adler
1F99C|parrot|parrots|Papagei|m|Papageien
1F9A2|swan|swans|Schwan|m|Schwäne
1F9A9|flamingo|flamingos|Flamingo|m|Flamingos
1F438|frog|frogs|Frosch|m|Frösche
1F422|turtle|turtles|Schildkröte|f|Schildkröten
1F40D|snake|snakes|Schlange|f|Schlangen
1F98E|lizard|lizards|Eidechse|f|Eidechsen
1F40A|crocodile|crocodiles|Krokodil|n|Krokodile
1F996|dinosaur|dinosaurs|Dinosaurier|m|Dinosaurier
1F41F|fish|fish|Fisch|m|Fische
1F420|tropical fish|tropical fish|Tropenfisch|m|Tropenfische
1F42C|dolphin|dolphins|Delfin|m|Delfine
1F40B|whale|whales|Wal|m|Wale
1F988|shark|sharks|Hai|m|Haie
1F419|octopus|octopuses|Krake|m|Kraken
1F980|crab|crabs|Krebs|m|Krebse
1F40C|snail|snails|Schnecke|f|Schnecken
1F98B|butterfly|butterflies|Schmetterling|m|Schmetterlinge
1F41D|bee|bees|Biene|f|Bienen
1F41E|ladybug|ladybugs|Marienkäfer|m|Marienkäfer
1F41C|ant|ants|Ameise|f|Ameisen
1F577|spider|spiders|Spinne|f|Spinnen
1F994|hedgehog|hedgehogs|Igel|m|Igel
1F43F|squirrel|squirrels|Eichhörnchen|n|Eichhörnchen
1F98C|deer|deer|Hirsch|m|Hirsche
1F992|giraffe|giraffes|Giraffe|f|Giraffen
1F993|zebra|zebras|Zebra|n|Zebras
1F99B|hippo|hippos|Nilpferd|n|Nilpferde
1F98F|rhino|rhinos|Nashorn|n|Nashörner
1F998|kangaroo|kangaroos|Känguru|n|Kängurus
1F987|bat|bats|Fledermaus|f|Fledermäuse
1F984|unicorn|unicorns|Einhorn|n|Einhörner
1F409|dragon|dragons|Drache|m|Drachen
1F34E|apple|apples|Apfel|m|Äpfel
1F350|pear|pears|Birne|f|Birnen
1F34C|banana|bananas|Banane|f|Bananen
1F34A|orange|oranges|Orange|f|Orangen
1F34B|lemon|lemons|Zitrone|f|Zitronen
1F353|strawberry|strawberries|Erdbeere|f|Erdbeeren
1F352|cherry|cherries|Kirsche|f|Kirschen
1F347|grape|grapes|Traube|f|Trauben
1F349|watermelon|watermelons|Wassermelone|f|Wassermelonen
1F34D|pineapple|pineapples|Ananas|f|Ananas
1F351|peach|peaches|Pfirsich|m|Pfirsiche
1F955|carrot|carrots|Karotte|f|Karotten
1F345|tomato|tomatoes|Tomate|f|Tomaten
1F954|potato|potatoes|Kartoffel|f|Kartoffeln
1F33D|corn|corn cobs|Maiskolben|m|Maiskolben
1F344|mushroom|mushrooms|Pilz|m|Pilze
1F966|broccoli|broccoli|Brokkoli|m|Brokkoli
1F35E|bread|loaves of bread|Brot|n|Brote
1F9C0|cheese|cheeses|Käse|m|Käse
1F355|pizza|pizzas|Pizza|f|Pizzen
1F354|burger|burgers|Burger|m|Burger
1F32D|hot dog|hot dogs|Hotdog|m|Hotdogs
1F382|cake|cakes|Kuchen|m|Kuchen
1F36A|cookie|cookies|Keks|m|Kekse
1F369|doughnut|doughnuts|Donut|m|Donuts
1F366|ice cream|ice creams|Eis|n|Eis
1F36D|lollipop|lollipops|Lutscher|m|Lutscher
1F36C|sweet|sweets|Bonbon|n|Bonbons
1F95A|egg|eggs|Ei|n|Eier
2615|coffee|coffees|Kaffee|m|Kaffees
1F950|croissant|croissants|Croissant|n|Croissants
1F968|pretzel|pretzels|Brezel|f|Brezeln
1F952|cucumber|cucumbers|Gurke|f|Gurken
1F951|avocado|avocados|Avocado|f|Avocados
1F965|coconut|coconuts|Kokosnuss|f|Kokosnüsse
1F697|car|cars|Auto|n|Autos
1F68C|bus|buses|Bus|m|Busse
1F686|train|trains|Zug|m|Züge
1F6B2|bicycle|bicycles|Fahrrad|n|Fahrräder
1F3CD|motorbike|motorbikes|Motorrad|n|Motorräder
2708|airplane|airplanes|Flugzeug|n|Flugzeuge
1F680|rocket|rockets|Rakete|f|Raketen
1F6A2|ship|ships|Schiff|n|Schiffe
26F5|sailing boat|sailing boats|Segelboot|n|Segelboote
1F69C|tractor|tractors|Traktor|m|Traktoren
1F692|fire engine|fire engines|Feuerwehrauto|n|Feuerwehrautos
1F693|police car|police cars|Polizeiauto|n|Polizeiautos
1F695|taxi|taxis|Taxi|n|Taxis
1F69A|truck|trucks|Lastwagen|m|Lastwagen
1F681|helicopter|helicopters|Hubschrauber|m|Hubschrauber
1F6F4|scooter|scooters|Roller|m|Roller
1F3E0|house|houses|Haus|n|Häuser
1F3F0|castle|castles|Schloss|n|Schlösser
26FA|tent|tents|Zelt|n|Zelte
26EA|church|churches|Kirche|f|Kirchen
2600|sun|suns|Sonne|f|Sonnen
2B50|star|stars|Stern|m|Sterne
1F319|moon|moons|Mond|m|Monde
2601|cloud|clouds|Wolke|f|Wolken
1F308|rainbow|rainbows|Regenbogen|m|Regenbögen
26C4|snowman|snowmen|Schneemann|m|Schneemänner
2602|umbrella|umbrellas|Regenschirm|m|Regenschirme
1F525|fire|fires|Feuer|n|Feuer
2744|snowflake|snowflakes|Schneeflocke|f|Schneeflocken
1F333|tree|trees|Baum|m|Bäume
1F332|fir tree|fir trees|Tanne|f|Tannen
1F334|palm tree|palm trees|Palme|f|Palmen
1F335|cactus|cacti|Kaktus|m|Kakteen
1F33B|sunflower|sunflowers|Sonnenblume|f|Sonnenblumen
1F339|rose|roses|Rose|f|Rosen
1F337|tulip|tulips|Tulpe|f|Tulpen
1F33C|flower|flowers|Blume|f|Blumen
1F340|clover|clovers|Kleeblatt|n|Kleeblätter
1F341|leaf|leaves|Blatt|n|Blätter
26BD|football|footballs|Fußball|m|Fußbälle
1F3C0|basketball|basketballs|Basketball|m|Basketbälle
1F3BE|tennis ball|tennis balls|Tennisball|m|Tennisbälle
1F388|balloon|balloons|Luftballon|m|Luftballons
1FA81|kite|kites|Drachen|m|Drachen
1F9F8|teddy bear|teddy bears|Teddybär|m|Teddybären
1F381|present|presents|Geschenk|n|Geschenke
1F3B8|guitar|guitars|Gitarre|f|Gitarren
1F3BB|violin|violins|Geige|f|Geigen
1F941|drum|drums|Trommel|f|Trommeln
1F3BA|trumpet|trumpets|Trompete|f|Trompeten
1F3B9|piano|pianos|Klavier|n|Klaviere
1F4D5|book|books|Buch|n|Bücher
270F|pencil|pencils|Bleistift|m|Bleistifte
2702|scissors|pairs of scissors|Schere|f|Scheren
1F511|key|keys|Schlüssel|m|Schlüssel
23F0|alarm clock|alarm clocks|Wecker|m|Wecker
231A|watch|watches|Uhr|f|Uhren
1F4F1|phone|phones|Handy|n|Handys
1F4BB|laptop|laptops|Laptop|m|Laptops
1F4FA|television|televisions|Fernseher|m|Fernseher
1F4F7|camera|cameras|Kamera|f|Kameras
1F4A1|light bulb|light bulbs|Glühbirne|f|Glühbirnen
1F451|crown|crowns|Krone|f|Kronen
1F453|pair of glasses|pairs of glasses|Brille|f|Brillen
1F3A9|hat|hats|Hut|m|Hüte
1F45F|shoe|shoes|Schuh|m|Schuhe
1F455|t-shirt|t-shirts|T-Shirt|n|T-Shirts
1F457|dress|dresses|Kleid|n|Kleider
1F392|backpack|backpacks|Rucksack|m|Rucksäcke
2764|heart|hearts|Herz|n|Herzen
1F514|bell|bells|Glocke|f|Glocken
1F56F|candle|candles|Kerze|f|Kerzen
1FA91|chair|chairs|Stuhl|m|Stühle
1F6CF|bed|beds|Bett|n|Betten
1F6AA|door|doors|Tür|f|Türen
1F528|hammer|hammers|Hammer|m|Hämmer
26F0|mountain|mountains|Berg|m|Berge
1F30B|volcano|volcanoes|Vulkan|m|Vulkane
1F47B|ghost|ghosts|Gespenst|n|Gespenster
1F916|robot|robots|Roboter|m|Roboter
1F476|baby|babies|Baby|n|Babys
1F9D2|child|children|Kind|n|Kinder
1F466|boy|boys|Junge|m|Jungen
1F467|girl|girls|Mädchen|n|Mädchen
1F468|man|men|Mann|m|Männer
1F469|woman|women|Frau|f|Frauen
1F600|smiley|smileys|Smiley|m|Smileys
1F9B4|bone|bones|Knochen|m|Knochen
1F383|pumpkin|pumpkins|Kürbis|m|Kürbisse
1F384|christmas tree|christmas trees|Weihnachtsbaum|m|Weihnachtsbäume
2693|anchor|anchors|Anker|m|Anker
1F3A1|ferris wheel|ferris wheels|Riesenrad|n|Riesenräder
1F9FA|basket|baskets|Korb|m|Körbe
1FAD6|teapot|teapots|Teekanne|f|Teekannen
1F944|spoon|spoons|Löffel|m|Löffel
1FA90|planet|planets|Planet|m|Planeten
2604|comet|comets|Komet|m|Kometen
1F315|full moon|full moons|Vollmond|m|Vollmonde
1F30D|globe|globes|Globus|m|Globen
"""


def nouns():
    """hexcode -> {"en": (singular, plural), "de": (singular, gender, plural)}."""
    out = {}
    for line in NOUNS.strip().splitlines():
        hexcode, en, en_pl, de, gender, de_pl = line.split("|")
        assert gender in ("m", "f", "n"), line
        out[hexcode] = {"en": (en, en_pl), "de": (de, gender, de_pl)}
    return out
