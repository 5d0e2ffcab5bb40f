// `govex plan digest` and `govex plan sign`: what an approver runs offline to
// check a draft and sign its approval (PROTOCOL.md "Members, directories, plans").
import type { Command } from 'commander'
import { digestOf, planDocument, signApproval, validateSchema, Plan, PlanState } from '@govex/core'
import type { Plan as PlanType } from '@govex/core'
import type { Context } from '../context.js'
import { json, out, pathOf } from '../context.js'
import { CliError, formatProblem } from '../errors.js'
import { readJson } from '../files.js'
import { readPrivateJwk } from '../keyfiles.js'

/**
 * Reads a plan document, or a plan state as the gateway answers it (document
 * plus status, digest, approvals): either way the digest covers the document only.
 */
export async function readPlan (file: string): Promise<PlanType> {
  const value = await readJson(file, 'plan')
  const isState = typeof value === 'object' && value !== null && 'status' in value
  const result = isState ? validateSchema(PlanState, value) : validateSchema(Plan, value)
  if (!result.ok) {
    throw new CliError(`${file} is not a plan document; run "govex lint ${file}" for details`, {
      details: result.problems.slice(0, 20).map(p => `  ${file}:${formatProblem(p)}`)
    })
  }
  return planDocument(result.value)
}

export function planDigest (plan: PlanType): string {
  return digestOf(planDocument(plan))
}

export function registerPlan (program: Command, ctx: Context): void {
  const plan = program.command('plan').description('digest and sign sharing plans')

  plan.command('digest')
    .description('print sha256:<hex> of the plan\'s canonical JSON (RFC 8785): what an approval signs')
    .argument('<plan.json>', 'a plan document, or a plan state from GET /v1/plans/{id}')
    .option('--json', 'print { id, version, digest }')
    .addHelpText('after', `
Example:
  $ govex plan digest plan.json
  sha256:3f0c...
Compare it with GET /v1/plans/{id}/digest before signing.`)
    .action(async (file: string, opts: { json?: boolean }) => {
      const doc = await readPlan(pathOf(ctx, file))
      const digest = planDigest(doc)
      if (opts.json === true) json(ctx, { id: doc.id, version: doc.version, digest })
      else out(ctx, digest)
    })

  plan.command('sign')
    .description('print the approver\'s detached JWS over the plan digest, the body of POST /v1/plans/{id}/approve')
    .argument('<plan.json>', 'a plan document, or a plan state from GET /v1/plans/{id}')
    .requiredOption('--key <file>', 'the approver\'s private JWK (<id>.key.json)')
    .option('--json', 'print { id, version, digest, kid, signature }; { "signature": ... } is the approve body')
    .addHelpText('after', `
Examples:
  $ govex plan sign --key keys/tj.gov.key.json plan.json
  $ SIG=$(govex plan sign --key keys/tj.gov.key.json plan.json)
  $ curl -X POST -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
      -d "{\\"signature\\":\\"$SIG\\"}" http://127.0.0.1:8080/v1/plans/tj-sharing-plan/approve`)
    .action(async (file: string, opts: { key: string, json?: boolean }) => {
      const doc = await readPlan(pathOf(ctx, file))
      const key = await readPrivateJwk(pathOf(ctx, opts.key))
      const digest = planDigest(doc)
      const signature = signApproval(digest, key)
      if (opts.json === true) json(ctx, { id: doc.id, version: doc.version, digest, kid: key.kid, signature })
      else out(ctx, signature)
    })
}
