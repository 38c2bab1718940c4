# A static binary in a distroless image, run as a non-root user.
#
#   docker build -t edgeauth .
#   docker run --rm -p 8080:8080 --env-file edgeauth.env edgeauth
#
# The final image holds the distroless static base (CA certificates, tzdata,
# /etc/passwd with nonroot = 65532) and /edgeauth, nothing else: no shell, no
# package manager. deploy_test.go runs the build line below as written and
# checks the rest of this file; .dockerignore keeps the context to the Go
# sources.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/edgeauth .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/edgeauth /edgeauth
# Production is the default already; the image says so itself, visible in
# `docker inspect`, whatever the platform's settings hold.
ENV EDGEAUTH_ENV=production
# Numeric, so that Kubernetes' runAsNonRoot can check it (it refuses a user
# name it cannot resolve): 65532 is distroless's nonroot.
USER 65532:65532
# The default port; Cloud Run and Fly.io set PORT, which edgeauth honours
# when EDGEAUTH_ADDR is unset.
EXPOSE 8080
ENTRYPOINT ["/edgeauth"]
CMD ["serve"]
