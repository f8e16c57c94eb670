using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Grpc;

/// <summary>The standard services beside <c>dev.sigstore.fulcio.v2.CA</c>, called with the .NET gRPC client.</summary>
[Collection(CaFixture.Collection)]
public sealed class GrpcServicesTests(CaFixture fixture)
{
    private GrpcChannel Channel() => GrpcChannel.ForAddress(fixture.Ca.GrpcUrl);

    [Fact]
    public async Task HealthCheck_OverallService_ReturnsServing()
    {
        using var channel = Channel();
        var health = new Health.HealthClient(channel);

        var response = await health.CheckAsync(new HealthCheckRequest { Service = "" });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task HealthCheck_UnknownService_ReturnsNotFound()
    {
        using var channel = Channel();
        var health = new Health.HealthClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new HealthCheckRequest { Service = "no.such.Service" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Reflection_ListServices_NamesFulcioHealthAndReflection()
    {
        using var channel = Channel();
        var reflection = new ServerReflection.ServerReflectionClient(channel);
        using var call = reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        Assert.Contains("dev.sigstore.fulcio.v2.CA", services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.Contains("grpc.reflection.v1alpha.ServerReflection", services);
    }

    [Fact]
    public async Task Reflection_FileContainingSymbol_ReturnsFulcioProto()
    {
        using var channel = Channel();
        var reflection = new ServerReflection.ServerReflectionClient(channel);
        using var call = reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "dev.sigstore.fulcio.v2.CA" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var file = Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(
            call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto[0]);

        Assert.Equal("dev.sigstore.fulcio.v2", file.Package);
        Assert.Contains(file.Service, s => s.Name == "CA" && s.Method.Any(m => m.Name == "CreateSigningCertificate"));
    }

    [Fact]
    public async Task HealthCheck_OnRestPort_IsNotServed()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Ca.RestUrl);
        var health = new Health.HealthClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new HealthCheckRequest()).ResponseAsync);

        Assert.NotEqual(StatusCode.OK, error.StatusCode);
    }
}
