# One build, one image per service (select with --target or the compose file).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/TransparencyLog.LogService -c Release -o /out/log \
 && dotnet publish src/TransparencyLog.CaService -c Release -o /out/ca \
 && dotnet publish src/TransparencyLog.DevIssuer -c Release -o /out/dev-issuer \
 && dotnet publish src/TransparencyLog.Admission -c Release -o /out/admission \
 && cp -r migrations /out/log/migrations
RUN dotnet publish src/TransparencyLog.Witness -c Release -o /out/witness

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS log
WORKDIR /app
# The state directory exists in the image owned by app, so a named volume mounted there is created writable by it.
RUN mkdir -p /var/lib/tlog/keys && chown -R app:app /var/lib/tlog
COPY --from=build /out/log .
USER app
ENTRYPOINT ["dotnet", "TransparencyLog.LogService.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS ca
WORKDIR /app
# The state directory exists in the image owned by app, so a named volume mounted there is created writable by it.
RUN mkdir -p /var/lib/tlog/ca && chown -R app:app /var/lib/tlog
COPY --from=build /out/ca .
USER app
ENTRYPOINT ["dotnet", "TransparencyLog.CaService.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS dev-issuer
WORKDIR /app
# The state directory exists in the image owned by app, so a named volume mounted there is created writable by it.
RUN mkdir -p /var/lib/tlog/dev-issuer && chown -R app:app /var/lib/tlog
COPY --from=build /out/dev-issuer .
USER app
ENTRYPOINT ["dotnet", "TransparencyLog.DevIssuer.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS admission
WORKDIR /app
COPY --from=build /out/admission .
USER app
ENTRYPOINT ["dotnet", "TransparencyLog.Admission.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS witness
WORKDIR /app
# The state directory (the witness's development key) exists owned by app, so a named volume there is writable by it.
RUN mkdir -p /var/lib/tlog/witness && chown -R app:app /var/lib/tlog
COPY --from=build /out/witness .
USER app
ENTRYPOINT ["dotnet", "TransparencyLog.Witness.dll"]
