#!/usr/bin/env python3
"""Share of perf samples by component, per process, for the CA benchmark's profile (docs/benchmarks.md, issue 13).

  perf script -i perf.data -F comm,pid,ip,sym,dso > chains.txt
  bench/perf-components.py chains.txt CA_PID=CA LOG_PID=log

Each sample goes to the first component met walking its stack from the leaf up (so "Kestrel" is only what runs in
Kestrel's own frames); samples of the tiered-JIT and GC threads are counted by thread name. Needs JIT frames named:
DOTNET_PerfMapEnabled=1 and DOTNET_EnableWriteXorExecute=0 in the services' environment. A measurement aid only.
"""
import collections
import re
import sys

f=sys.argv[1]; names={int(a.split('=')[0]):a.split('=')[1] for a in sys.argv[2:]}
samples=[]; cur=None
for line in open(f, errors='replace'):
    if not line.strip(): continue
    if not line.startswith('\t'):
        m=re.match(r'^(.*?)\s+(\d+)\s*$', line.rstrip())
        if m: cur=(m.group(1).strip(), int(m.group(2)), []); samples.append(cur)
        continue
    m=re.match(r'\s*[0-9a-f]+\s+(.*)\s+\((.*)\)\s*$', line)
    if m and cur is not None: cur[2].append((m.group(1), m.group(2)))
# frame-level patterns, checked leaf->root; first frame matching any pattern wins
pats=[('GC', r'(WKS|SVR)::|gc_heap|GCHeap::|GarbageCollect|JIT_New|AllocateObject|Alloc\(|RhpNew|JIT_NewArr'),
 ('crypto (OpenSSL)', r'libcrypto|libssl|Native\.OpenSsl|System\.Security\.Cryptography'),
 ('token (Microsoft.IdentityModel)', r'IdentityModel'),
 ('protobuf JSON (ProtoJson/Google.Protobuf)', r'Google\.Protobuf|ProtoJson'),
 ('System.Text.Json', r'System\.Text\.Json'),
 ('logging (Serilog sinks/formatting)', r'Serilog\.(Sinks|Formatting|Core\.Logger|Events|Parsing|Capturing|Extensions\.Logging)|Microsoft\.Extensions\.Logging\.Logger[^F]|LoggerMessage|Log::'),
 ('Npgsql', r'Npgsql'),
 ('Polly', r'\[Polly'),
 ('HttpClient', r'System\.Net\.Http'),
 ('Prometheus metrics', r'Prometheus'),
 ('sockets/pipes', r'System\.Net\.Sockets|System\.IO\.Pipelines'),
 ('Kestrel/ASP.NET Core', r'AspNetCore'),
 ('app code', r'TransparencyLog\.'),
]
pats=[(n,re.compile(p)) for n,p in pats]
by=collections.defaultdict(collections.Counter); tot=collections.Counter(); appf=collections.defaultdict(collections.Counter)
for comm,pid,fr in samples:
    tot[pid]+=1
    if 'Tiered Com' in comm: by[pid]['JIT (tiered compilation thread)']+=1; continue
    if comm.startswith('.NET BGC') or 'GC' in comm and 'Server' in comm: by[pid]['GC']+=1; continue
    name=None
    for s,d in fr:
        t=s+' '+d
        for n,p in pats:
            if p.search(t): name=n; break
        if name: break
    if name is None:
        name='kernel/runtime (no managed frame)' if fr and ('kernel' in fr[0][1] or 'libcoreclr' in fr[0][1] or 'libc' in fr[0][1]) else 'other'
    by[pid][name]+=1
    # inclusive app-level: first TransparencyLog frame
    for s,d in fr:
        m=re.search(r'(TransparencyLog\.[\w\.]+)::(\w+)', s)
        if m: appf[pid][m.group(1).split('.')[-1]+'::'+m.group(2)]+=1; break
for pid in tot:
    print(f"== {names.get(pid,pid)} ({pid}): {tot[pid]} samples")
    for n,c in by[pid].most_common(): print(f"  {100*c/tot[pid]:5.1f}%  {n}")
    print("  nearest app frame:")
    for n,c in appf[pid].most_common(15): print(f"   {100*c/tot[pid]:5.1f}%  {n}")
