FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir uv && uv pip install --system --no-cache '.[tts]'
ENV LIBRARIAN_HOME=/data
CMD ["librarian", "serve", "--host", "0.0.0.0"]
