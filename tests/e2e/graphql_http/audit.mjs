// graphql-http's auditServer against a running gateway; prints one JSON object:
// {"total": n, "results": [{"id", "name", "status", "reason"}]} (status ok, warn or error).
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
const out = results.map((r) => ({
  id: r.id,
  name: r.name,
  status: r.status,
  reason: r.status === 'ok' ? null : r.reason,
}));
process.stdout.write(JSON.stringify({ total: out.length, results: out }) + '\n');
