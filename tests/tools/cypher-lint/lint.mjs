// Lints Cypher statements with Neo4j's own parser and semantic analysis (offline).
// stdin:  {"schema": {labels, relationshipTypes, propertyKeys}, "statements": [{name, query, parameters}]}
// stdout: [{"name", "diagnostics": [{"severity": "error" | "warning", "message", "offset"}]}]
// The function registry is the one the package ships for Neo4j's built-in functions, so a misspelt or
// unknown function is reported too. All statements are linted in one process (the first call warms up).
import { lintCypherQuery, testData } from '@neo4j-cypher/language-support';

const SEVERITY = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const input = JSON.parse(await readStdin());
const results = [];
for (const statement of input.statements) {
  const dbSchema = {
    labels: input.schema.labels,
    relationshipTypes: input.schema.relationshipTypes,
    propertyKeys: input.schema.propertyKeys ?? [],
    functions: testData.mockSchema.functions,
    procedures: testData.mockSchema.procedures,
    parameters: statement.parameters ?? {},
  };
  const { diagnostics } = lintCypherQuery(statement.query, dbSchema);
  results.push({
    name: statement.name,
    diagnostics: diagnostics.map((d) => ({
      severity: SEVERITY[d.severity] ?? String(d.severity),
      message: d.message,
      offset: d.offsets ? d.offsets.start : null,
    })),
  });
}
process.stdout.write(JSON.stringify(results));
