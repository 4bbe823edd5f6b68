FROM python:3.11-slim
WORKDIR /app
COPY . /app
# OpenCV (used by the OCR of scanned PDFs) needs libGL and GLib; espeak-ng speaks German
# (no natural offline voice exists for it)
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 espeak-ng \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv && uv pip install --system --no-cache '.[tts]'
ENV LIBRARIAN_HOME=/data
CMD ["librarian", "serve", "--host", "0.0.0.0"]
