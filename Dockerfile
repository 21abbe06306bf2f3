# Courier: multi-stage build of static binaries.
#   docker build -t courier .
#   docker run -p 3307:3307 -v $PWD/courier.yaml:/etc/courier/courier.yaml courier
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
EXPOSE 3307 9104
USER nonroot
ENTRYPOINT ["/usr/local/bin/courier", "--config", "/etc/courier/courier.yaml"]
