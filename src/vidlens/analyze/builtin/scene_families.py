"""ImageNet-1k classes grouped into coarse scene families, and the ImageNet classes that name a COCO object.

ImageNet names objects, not places: "suit" on a talking head, "whistle" on a film, "computer mouse"
on a test pattern. A single class is a weak and often wrong hint, but the probability mass of many
related classes says more: furniture, appliances and screens together say a room; boats, piers and
shores say water. So a frame's family score is the summed probability of the family's classes, and
only a family (never an ImageNet name) can become a scene tag, once its score clears a threshold
measured on hand-labelled frames (see bench/bench_tags.py).

The lists are general (chosen from the class names, not from any clip): classes that appear in
both settings (pets, people's clothes, food, fish, which ImageNet photographs mostly in people's
hands) belong to no family. ``COCO_EVIDENCE`` lists, for COCO classes the object detector reports,
the ImageNet classes that show the same kind of thing; they may corroborate a detection, never
stand alone as a tag.
"""

from __future__ import annotations

from collections.abc import Sequence

INDOOR, OUTDOOR, GRAPHICS = "indoor", "outdoor", "graphics"

# family -> (setting it implies, ImageNet-1k class names as in models/data/imagenet_labels.txt)
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "nature": (OUTDOOR, (
        "mountain", "cliff", "valley", "volcano", "promontory", "geyser", "hay", "rapeseed", "daisy",
        "yellow lady's slipper", "corn", "acorn", "rose hip", "horse chestnut seed", "coral fungus", "agaric",
        "gyromitra", "stinkhorn mushroom", "earth star fungus", "hen of the woods mushroom", "bolete",
        "fruiting spike of a cereal plant", "split-rail fence", "stone wall", "megalith", "cliff dwelling",
        "harvestman", "yellow garden spider", "barn spider", "European garden spider", "spider web",
        "brambling", "goldfinch", "house finch", "junco", "indigo bunting", "American robin", "bulbul", "jay",
        "magpie", "chickadee", "American dipper", "kite (bird of prey)", "bald eagle", "vulture", "great grey owl",
        "black grouse", "ptarmigan", "ruffed grouse", "prairie grouse", "quail", "partridge", "hornbill",
        "hummingbird", "bee eater", "jacamar", "toucan", "coucal", "bustard", "king penguin", "albatross",
        "tusker", "wallaby", "koala", "wombat", "grey wolf", "Alaskan tundra wolf", "red wolf or maned wolf",
        "coyote", "dingo", "dhole", "African wild dog", "hyena", "red fox", "kit fox", "Arctic fox", "grey fox",
        "cougar", "lynx", "leopard", "snow leopard", "jaguar", "lion", "tiger", "cheetah", "brown bear",
        "American black bear", "sloth bear", "mongoose", "meerkat", "fox squirrel", "marmot", "beaver",
        "porcupine", "hare", "cottontail rabbit", "zebra", "wild boar", "warthog", "hippopotamus", "water buffalo",
        "bison", "bighorn sheep", "Alpine ibex", "hartebeest", "impala (antelope)", "gazelle", "arabian camel",
        "llama", "badger", "skunk", "armadillo", "three-toed sloth", "orangutan", "gorilla", "chimpanzee",
        "baboon", "Asian elephant", "African bush elephant", "ox", "ram (adult male sheep)", "common sorrel horse",
        "grasshopper", "cricket insect", "stick insect", "praying mantis", "cicada", "leafhopper", "dragonfly",
        "damselfly", "red admiral butterfly", "ringlet butterfly", "monarch butterfly", "small white butterfly",
        "sulphur butterfly", "gossamer-winged butterfly", "bee", "ant", "ladybug", "leaf beetle", "snail", "slug",
        "tractor", "combine harvester", "farm plow", "threshing machine", "bullock cart", "horse-drawn vehicle")),
    "water": (OUTDOOR, (
        "beach", "lakeshore", "sandbar", "breakwater", "dock", "pier", "boathouse",
        "lighthouse", "kayak", "catamaran", "fireboat", "gondola", "lifeboat", "ocean liner",
        "pirate ship", "schooner", "motorboat", "trimaran", "yawl (boat)", "container ship", "aircraft carrier",
        "shipwreck", "paddle", "paddle wheel", "snorkel", "scuba diver", "coral reef", "sea anemone", "brain coral",
        "pelican", "white stork", "black stork", "spoonbill", "flamingo", "little blue heron", "great egret",
        "bittern bird", "crane bird", "limpkin", "common gallinule", "American coot", "ruddy turnstone", "dunlin",
        "common redshank", "dowitcher", "oystercatcher", "drake (male duck)", "red-breasted merganser", "goose",
        "black swan", "sea lion", "grey whale", "killer whale", "dugong", "otter", "swim trunks / shorts",
        "one-piece bathing suit", "bikini", "amphibious vehicle", "submarine")),
    "snow": (OUTDOOR, (
        "ski", "snowmobile", "snowplow", "dog sled", "bobsleigh", "polar bear", "balaclava ski mask", "mitten")),
    "street": (OUTDOOR, (
        "traffic or street sign", "traffic light", "parking meter", "manhole cover", "mailbox", "taxicab", "tram",
        "trolleybus", "minibus", "school bus", "police van", "moving van", "garbage truck", "tow truck",
        "fire truck", "ambulance", "limousine", "convertible", "sports car", "jeep", "minivan", "pickup truck",
        "station wagon", "recreational vehicle", "semi-trailer truck", "moped", "motor scooter", "mountain bike",
        "tandem bicycle", "tricycle", "rickshaw vehicle", "go-kart", "race car", "car wheel", "radiator grille",
        "gas pump", "park bench", "chain-link fence", "picket fence", "pole", "flagpole", "construction crane",
        "freight car", "railroad car", "electric locomotive", "steam locomotive", "high-speed train",
        "through arch bridge", "suspension bridge", "viaduct", "dam", "crash helmet", "payphone", "ford model t",
        "half-track", "forklift", "disc brake")),
    "buildings": (OUTDOOR, (
        "church", "mosque", "palace", "castle", "monastery", "dome", "bell tower", "stupa", "obelisk",
        "triumphal arch", "totem pole", "water tower", "barn", "greenhouse", "yurt", "tent", "mobile home",
        "thatched roof", "tile roof", "apiary", "birdhouse", "planetarium", "movie theater", "patio", "fountain",
        "solar thermal collector", "radio telescope", "drilling rig", "prison", "sundial", "maypole")),
    "room": (INDOOR, (
        "couch", "four-poster bed", "quilt", "pillow", "bookcase", "wardrobe", "chiffonier", "china cabinet",
        "entertainment center (furniture)", "home theater", "television", "dining table", "rocking chair",
        "folding chair", "window shade", "window screen", "sliding door", "shower curtain", "bathtub", "sink",
        "toilet seat", "medicine cabinet", "refrigerator", "microwave oven", "dishwasher", "stove",
        "washing machine", "Dutch oven", "Crock Pot", "espresso machine", "toaster", "waffle iron", "rotisserie",
        "plate rack", "lampshade", "table lamp", "radiator", "space heater", "electric fan", "vacuum cleaner",
        "clothes iron", "wall clock", "cradle", "infant bed", "bassinet", "doormat", "prayer rug", "fire screen",
        "bath towel", "toilet paper", "paper towel", "soap dispenser", "shoji screen / room divider", "pool table",
        "upright piano", "desk", "desktop computer", "monitor", "CRT monitor", "computer keyboard",
        "keyboard space bar", "computer mouse", "laptop computer", "notebook computer", "printer", "photocopier",
        "filing cabinet", "modem", "hard disk drive", "typewriter keyboard", "ring binder", "projector",
        "vaulted or arched ceiling", "mosquito net", "sleeping bag", "storage chest", "barber chair",
        "hamper", "mop", "broom", "plunger", "electrical switch")),
    "shop": (INDOOR, (
        "grocery store", "bookstore", "butcher shop", "candy store", "shoe store", "tobacco shop", "toy store",
        "barbershop", "bakery", "restaurant", "shopping basket", "shopping cart", "vending machine",
        "slot machine", "library", "turnstile", "automated teller machine")),
    "stage": (INDOOR, (
        "stage", "front curtain", "spotlight", "pipe organ", "altar", "throne", "grand piano", "gymnastic horizontal bar",
        "parallel bars", "balance beam", "scoreboard", "microphone")),
}

# COCO class (as the object detector names it) -> ImageNet classes that show the same kind of thing.
COCO_EVIDENCE: dict[str, tuple[str, ...]] = {
    "car": ("sports car", "convertible", "taxicab", "station wagon", "jeep", "minivan", "limousine", "race car",
            "police van", "car wheel", "radiator grille", "ford model t", "pickup truck", "ambulance"),
    "bus": ("minibus", "school bus", "trolleybus"),
    "truck": ("moving van", "garbage truck", "tow truck", "fire truck", "semi-trailer truck", "pickup truck",
              "police van"),
    "train": ("electric locomotive", "steam locomotive", "high-speed train", "freight car", "railroad car", "tram"),
    "bicycle": ("mountain bike", "tandem bicycle", "tricycle", "unicycle"),
    "motorcycle": ("moped", "motor scooter"),
    "airplane": ("airliner", "military aircraft", "airplane wing"),
    "boat": ("kayak", "catamaran", "fireboat", "gondola", "lifeboat", "ocean liner", "pirate ship", "schooner",
             "motorboat", "trimaran", "yawl (boat)", "container ship"),
    "traffic light": ("traffic light",),
    "stop sign": ("traffic or street sign",),
    "parking meter": ("parking meter",),
    "bench": ("park bench",),
    "tie": ("Windsor tie", "bow tie", "bolo tie"),
    "backpack": ("backpack",),
    "umbrella": ("umbrella",),
    "handbag": ("purse",),
    "skis": ("ski",),
    "sports ball": ("soccer ball", "basketball", "baseball", "volleyball ball", "rugby ball", "tennis ball",
                    "golf ball", "croquet ball"),
    "bottle": ("beer bottle", "wine bottle", "water bottle", "soda bottle", "pill bottle", "whiskey jug"),
    "wine glass": ("goblet", "red wine"),
    "cup": ("coffee mug", "tea cup", "espresso"),
    "bowl": ("soup bowl", "mixing bowl", "consomme"),
    "banana": ("banana",), "orange": ("orange",), "broccoli": ("broccoli",), "hot dog": ("hot dog",),
    "pizza": ("pizza",),
    "chair": ("folding chair", "rocking chair", "barber chair", "throne"),
    "couch": ("couch",),
    "bed": ("four-poster bed", "infant bed", "quilt"),
    "dining table": ("dining table",),
    "toilet": ("toilet seat",),
    "tv": ("television", "monitor", "CRT monitor", "home theater", "entertainment center (furniture)"),
    "laptop": ("laptop computer", "notebook computer"),
    "mouse": ("computer mouse",),
    "remote": ("remote control",),
    "keyboard": ("computer keyboard", "typewriter keyboard", "keyboard space bar"),
    "cell phone": ("mobile phone",),
    "microwave": ("microwave oven",), "oven": ("stove", "Dutch oven"), "toaster": ("toaster",),
    "sink": ("sink",), "refrigerator": ("refrigerator",),
    "book": ("bookcase", "bookstore", "dust jacket", "comic book"),
    "clock": ("analog clock", "wall clock", "digital clock"),
    "vase": ("vase",), "teddy bear": ("teddy bear",),
    "hair drier": ("hair dryer",),
    "bird": ("brambling", "goldfinch", "house finch", "junco", "indigo bunting", "American robin", "bulbul", "jay",
             "magpie", "chickadee", "king penguin", "albatross", "goose", "hen", "rooster", "ostrich", "peafowl",
             "macaw", "african grey parrot", "sulphur-crested cockatoo", "lorikeet", "toucan", "hummingbird",
             "bald eagle", "vulture", "great grey owl", "flamingo", "pelican", "drake (male duck)"),
    "horse": ("common sorrel horse",), "sheep": ("ram (adult male sheep)", "bighorn sheep"),
    "cow": ("ox", "water buffalo", "bison"), "elephant": ("Asian elephant", "African bush elephant", "tusker"),
    "bear": ("brown bear", "American black bear", "polar bear", "sloth bear"), "zebra": ("zebra",),
    "cat": ("tabby cat", "a cat having a striped coat", "Persian cat", "Siamese cat", "Egyptian Mau"),
}


def family_indices(labels: Sequence[str]) -> dict[str, list[int]]:
    """For each family, the indices of its classes in ``labels`` (names not in ``labels`` are skipped)."""
    index = {name: i for i, name in enumerate(labels)}
    return {fam: sorted(index[n] for n in names if n in index) for fam, (_, names) in FAMILIES.items()}


def setting_of(family: str) -> str:
    """The setting (indoor or outdoor) a family implies."""
    return FAMILIES[family][0]
