# syntax=docker/dockerfile:1
# ThumbnailApi: build with the .NET SDK, run on the ASP.NET Core runtime as a non-root user.
#   docker build -t thumbnailapi .
#   docker run -p 8000:8000 -v thumbs:/data thumbnailapi
# Several instances of this image behind nginx, on one PostgreSQL and one /data volume: docker-compose.yml,
# profile "scale" (the image is the same; configuration chooses the store and the trusted proxy).

ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
# Restore first, from the project file alone, so the package layer is reused until it changes.
COPY ThumbnailApi.csproj ./
RUN dotnet restore ThumbnailApi.csproj
COPY . ./
# PathMap: stack traces name source files as /_/Persistence/..., not the build folder.
RUN dotnet publish ThumbnailApi.csproj --no-restore --configuration Release --output /app \
    -p:UseAppHost=false -p:PathMap=/src/=/_/

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
# SkiaSharp's native library links against fontconfig; libheif reads HEIC and AVIF uploads (the
# service runs without it and then refuses them). Newer Debian releases ship libheif's HEVC and AV1
# decoders as plugin packages, which --no-install-recommends would leave out: they are named when
# the distribution has them. Nothing else is needed (no curl: the health check is the service's
# own --health-check mode).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libfontconfig1 libheif1 \
    && if apt-cache show libheif-plugin-libde265 >/dev/null 2>&1; then \
         apt-get install -y --no-install-recommends libheif-plugin-libde265 libheif-plugin-dav1d; \
       fi \
    && rm -rf /var/lib/apt/lists/*
# The data folder (SQLite database, uploads, thumbnails) is a volume owned by the image's
# non-root user "app" ($APP_UID, set by the base image).
RUN mkdir /data && chown "$APP_UID" /data
WORKDIR /app
COPY --from=build /app ./

# Listen on 8000 instead of the base image's 8080 (the service's own default is 8000 too when no
# address is set; change it with ASPNETCORE_HTTP_PORTS or ASPNETCORE_URLS).
# MALLOC_ARENA_MAX: decoders allocate native buffers on many threads; two glibc arenas instead of
# up to eight per core guard against resident memory creeping up over long runs. (A 48-upload
# burst showed no difference either way, nor did DOTNET_gcServer=0 or DOTNET_GCConserveMemory:
# the default server GC with dynamic adaptation already sizes itself; see README "Run with Docker".)
ENV ASPNETCORE_HTTP_PORTS=8000 \
    ThumbnailApi__DataPath=/data \
    MALLOC_ARENA_MAX=2
USER $APP_UID
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --start-interval=2s --retries=3 \
    CMD ["dotnet", "ThumbnailApi.dll", "--health-check"]
ENTRYPOINT ["dotnet", "ThumbnailApi.dll"]
