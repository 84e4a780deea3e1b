# Dockerfile: the JWT auth pair in two stages on Debian bookworm. The build
# stage has the -dev packages and compiles; the runtime stage has only the
# shared libraries, the four programs, the config, the demo page and the
# OpenAPI files, and runs as an unprivileged user. docker-compose.yml
# starts one container per service from this image. No user and no
# password is in the image: the users file ($AUTH_SECRETS, in the data
# volume) starts empty; docker-compose.demo.yml mounts the demo users.
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libevent-dev libssl-dev \
      libjson-c-dev libsodium-dev libsqlite3-dev libpq-dev python3-minimal \
 && rm -rf /var/lib/apt/lists/*
# python3-minimal: CMakeLists.txt requires python3 at configure time (it
# registers the Python tests); nothing here runs it.
WORKDIR /src
COPY CMakeLists.txt ./
COPY common common
COPY auth_service auth_service
COPY resource_service resource_service
COPY tools tools
COPY tests tests
COPY bench bench
COPY fuzz fuzz
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build -j"$(nproc)" \
      --target auth_service resource_service jwt-admin jwt-keygen

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libevent-2.1-7 libevent-pthreads-2.1-7 libevent-openssl-2.1-7 libjson-c5 libsodium23 \
      libssl3 libsqlite3-0 libpq5 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin jwt
COPY --from=build /src/build/auth_service /src/build/resource_service \
     /src/build/jwt-admin /src/build/jwt-keygen /usr/local/bin/
COPY deploy/docker/auth-start.sh /usr/local/bin/auth-start
WORKDIR /app
COPY config/auth.json config/resource.json config/routes.json \
     config/permissions.json config/
COPY web web
COPY docs/openapi docs/openapi
# keys/ and data/ are volumes; created here so a new named volume starts
# owned by the service user.
RUN mkdir -p keys data && chown jwt:jwt keys data && chmod 0700 keys data
USER jwt
# The users jwt-admin and the daemon share; auth-start creates it empty.
ENV AUTH_SECRETS=/app/data/users.json
EXPOSE 5000 5001
CMD ["auth-start"]
