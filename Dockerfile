# Courier: multi-stage build of static binaries.
#   docker build -t courier .
#   docker run -p 3307:3307 -p 9104:9104 -v $PWD/courier.yaml:/etc/courier/courier.yaml courier
# The image listens on every interface of the container (COURIER_LISTEN,
# COURIER_ADMIN below; any setting outside a list can be given so, see
# config.Load), runs as an unprivileged user and checks its own health.
# Mount your configuration over /etc/courier/courier.yaml: the one built in
# is the commented example, whose cluster address is a placeholder.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/courier ./cmd/courier && \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/courierctl ./cmd/courierctl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/courier /out/courierctl /usr/local/bin/
COPY testdata/courier.example.yaml /etc/courier/courier.yaml
ENV COURIER_LISTEN=0.0.0.0:3307
ENV COURIER_ADMIN=0.0.0.0:9104
EXPOSE 3307 9104
USER nonroot
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s CMD ["/usr/local/bin/courierctl", "health", "--admin", "127.0.0.1:9104"]
ENTRYPOINT ["/usr/local/bin/courier", "--config", "/etc/courier/courier.yaml"]
