# One image for the whole fleet demo: `fleet`, which runs any of the 15 services
# (`--service telemetry-service` is the telemetry service) or the traffic generator.
#   docker build -t keviq-fleet:local .
# See infra/docker/docker-compose.yml for how the services are run.

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p example-fleet

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /home/keviq --uid 10001 keviq
COPY --from=builder /src/target/release/fleet /usr/local/bin/fleet
USER keviq
# A writable working directory: the telemetry service's default database is a SQLite file
# next to the process.
WORKDIR /home/keviq
ENV KEVIQ_LISTEN=0.0.0.0:8000
EXPOSE 8000
