using TransparencyLog.Admission.Policies;
using TransparencyLog.Admission.Webhook;
using TransparencyLog.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(
    "TransparencyLog admission webhook",
    "Kubernetes AdmissionReview v1: /validate judges every image of a workload against ClusterImagePolicies, /mutate pins tags to digests.");
builder.AddHeaderLimits();
builder.AddPolicyStore();
builder.AddWebhook();

var app = builder.Build();
app.MapServiceDefaults();
app.UseHeaderLimits(HeaderRejection.WriteAsync);
app.MapWebhook();
app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
