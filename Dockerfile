# Dockerfile - stowaway in a small image that runs as a non-root user.
#   docker build -t stowaway .
#   docker save app:1.2 | docker run --rm -i stowaway scan -
# Two stages: the build stage has the compiler and -dev packages, the
# runtime stage only the shared libraries. Bases are pinned by tag (pin by
# digest too, debian:12-slim@sha256:..., for reproducible builds). Nothing
# secret is passed in: no ARG, no ENV with credentials, and .dockerignore
# keeps .git, build trees and databases out of the context.

FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libarchive-dev libpcre2-dev \
      libzstd-dev libsqlite3-dev libjansson-dev libyaml-dev \
      libvectorscan-dev libisal-dev libssl-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY include/ include/
COPY scanner/ scanner/
COPY signatures/ signatures/
COPY db/ db/
COPY docs/stowaway.1 docs/stowaway.1
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DSTW_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" \
 && DESTDIR=/out cmake --install /build --prefix /usr/local --strip

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libarchive13 libpcre2-8-0 libzstd1 libsqlite3-0 libjansson4 \
      libyaml-0-2 libvectorscan5 libisal2 libssl3 libcurl4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --create-home \
      --home-dir /home/stowaway --shell /usr/sbin/nologin stowaway
COPY --from=build /out/usr/local/ /usr/local/
USER 10001:10001
WORKDIR /home/stowaway
# The layer cache lives in the container unless a volume is mounted here.
ENV XDG_CACHE_HOME=/home/stowaway/.cache
ENTRYPOINT ["stowaway"]
CMD ["--help"]
