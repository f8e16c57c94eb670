using System.Text.Json;
using System.Text.Json.Serialization;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>
/// The monitor's serialized types, source-generated: no reflection or run-time code generation when a configuration
/// is read or the state is saved (what a trimmed or Native AOT tlog needs), and no serializer built per type at start.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(MonitorConfig))]
internal sealed partial class MonitorConfigJsonContext : JsonSerializerContext;

/// <summary>The state file (<see cref="MonitorState"/>): indented, camel-case.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(MonitorState))]
internal sealed partial class MonitorStateJsonContext : JsonSerializerContext;

/// <summary>The state database's tree edge column: compact JSON.</summary>
[JsonSerializable(typeof(IReadOnlyList<IReadOnlyList<string>>))]
[JsonSerializable(typeof(List<List<string>>))]
internal sealed partial class MonitorWireJsonContext : JsonSerializerContext;
