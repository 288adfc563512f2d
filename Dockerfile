# The controller image: `provisioner run ...` (see deploy/controller.yaml).
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY provisioner provisioner
COPY providers providers
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.12-slim
COPY --from=build /install /usr/local
USER 65532:65532
ENTRYPOINT ["provisioner"]
CMD ["run", "--help"]
