# One build, one image per service (select with --target or the compose file).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/TransparencyLog.LogService -c Release -o /out/log \
 && dotnet publish src/TransparencyLog.CaService -c Release -o /out/ca \
 && dotnet publish src/TransparencyLog.DevIssuer -c Release -o /out/dev-issuer \
 && dotnet publish src/TransparencyLog.Admission -c Release -o /out/admission \
 && dotnet publish src/TransparencyLog.Cli -c Release -o /out/cli \
 && cp -r migrations /out/log/migrations
RUN dotnet publish src/TransparencyLog.Witness -c Release -o /out/witness

# Every state directory a compose volume is mounted on exists in every image, owned by the image's user (app): an
# empty named volume takes the ownership of the directory it is first mounted on, so the services can write to it.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
RUN mkdir -p /var/lib/tlog/keys /var/lib/tlog/ca /var/lib/tlog/dev-issuer /var/lib/tlog/trust /var/lib/tlog/witness /var/lib/tlog/issuers \
 && chown -R app:app /var/lib/tlog
WORKDIR /app

FROM runtime AS log
COPY --from=build /out/log .
USER app
ENTRYPOINT ["dotnet", "TransparencyLog.LogService.dll"]

FROM runtime AS ca
COPY --from=build /out/ca .
USER app
ENTRYPOINT ["dotnet", "TransparencyLog.CaService.dll"]

FROM runtime AS dev-issuer
COPY --from=build /out/dev-issuer .
USER app
ENTRYPOINT ["dotnet", "TransparencyLog.DevIssuer.dll"]

FROM runtime AS admission
COPY --from=build /out/admission .
USER app
ENTRYPOINT ["dotnet", "TransparencyLog.Admission.dll"]

FROM runtime AS cli
COPY --from=build /out/cli .
USER app
ENTRYPOINT ["dotnet", "tlog.dll"]

FROM runtime AS witness
COPY --from=build /out/witness .
USER app
ENTRYPOINT ["dotnet", "TransparencyLog.Witness.dll"]
