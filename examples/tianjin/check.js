// Checks every document of the example against @govex/core's validators (the
// same code the gateway runs) and the fake providers against the directories.
// `npx tsc -b && node examples/tianjin/check.js` prints every problem and exits 1
// if any; `checkExample()` returns them (for a test).
import { readFile, readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EXAMPLE_DIR, readTemplate, buildMembers, generateMemberKey } from './setup.js'
import { startProviders, PROVIDERS } from './providers/index.js'
import { RESIDENTS } from './providers/residents.js'

const CORE_DIST = new URL('../../packages/core/dist/index.js', import.meta.url)

/**
 * Runs every check; returns { problems: string[], findings, counts } and never
 * throws for a bad document. `core` is @govex/core (a test may pass the module
 * it imported); by default the built one in packages/core/dist.
 */
export async function checkExample ({ core } = {}) {
  core ??= await import(CORE_DIST.href).catch(err => {
    throw new Error(`cannot load @govex/core from ${CORE_DIST.pathname} (${err.message}): run \`npx tsc -b\` at the repository root first`)
  })
  const problems = []
  const report = (file, list) => { for (const p of list) problems.push(`${file} ${p.path || '/'}: [${p.code}] ${p.message}`) }
  const fail = (file, message) => problems.push(`${file}: ${message}`)
  const readJson = async file => JSON.parse(await readFile(join(EXAMPLE_DIR, file), 'utf8'))
  const check = (file, result) => { if (!result.ok) report(file, result.problems); return result.ok ? result.value : undefined }

  // Members: the template with freshly generated keys (the committed file has none).
  const template = await readTemplate()
  const members = check('members.template.json', core.validateMemberList(buildMembers(template, new Map(template.map(m => [m.id, generateMemberKey(m.id).publicJwk])))))
  const memberMap = new Map((members ?? []).map(m => [m.id, m]))
  const seeded = await readJson('data-seed/members.json').catch(() => undefined)
  if (seeded !== undefined) check('data-seed/members.json', core.validateMemberList(seeded))

  // Gateway configurations.
  const config = await readJson('govex.config.json')
  for (const file of ['govex.config.json', 'govex.redis.config.json']) {
    const value = check(file, core.validateSchema(core.GatewayConfig, await readJson(file)))
    if (value !== undefined && memberMap.get(value.gatewayId)?.roles.includes('gateway') !== true) fail(file, `gatewayId ${value.gatewayId} is not a member with role gateway`)
  }
  for (const kind of ['directories', 'disclosures']) {
    const listed = config.bootstrap[kind].map(p => resolve(EXAMPLE_DIR, p)).sort()
    const present = (await readdir(join(EXAMPLE_DIR, kind))).map(f => join(EXAMPLE_DIR, kind, f)).sort()
    if (listed.join() !== present.join()) fail('govex.config.json', `bootstrap.${kind} does not list exactly the files in ${kind}/`)
  }

  // Directories, the compiled catalog and its lint findings (Art. 9, 11, 12).
  const directories = []
  for (const file of config.bootstrap.directories) {
    const directory = check(file, core.validateDirectory(await readJson(file), { allowHosts: config.upstream.allowHosts }))
    if (directory === undefined) continue
    if (!file.endsWith(`/${directory.agency}.json`)) fail(file, `file name does not match agency ${directory.agency}`)
    if (memberMap.get(directory.agency)?.roles.includes('agency') !== true) fail(file, `${directory.agency} is not an agency member`)
    directories.push(directory)
  }
  const catalog = core.compileCatalog(directories)
  const findings = core.lintCatalog(catalog)
  if (!findings.some(f => f.code === 'duplicate-item')) fail('directories/', 'expected at least one duplicate-item lint finding (the Art. 9 demonstration)')

  // Disclosure catalogs (Art. 14): each agency covers the nine categories.
  for (const file of config.bootstrap.disclosures) {
    const disclosure = check(file, core.validateDisclosure(await readJson(file)))
    if (disclosure === undefined) continue
    const missing = core.DISCLOSURE_CATEGORIES.filter(c => !disclosure.entries.some(e => e.category === c))
    if (missing.length > 0) fail(file, `no entry in categories ${missing.join(', ')}`)
  }

  // The draft sharing plan, against the catalog and the members (Art. 12).
  const plan = check('plan.json', core.validatePlan(await readJson('plan.json'), { catalog, members: memberMap }))

  // Fake data: well-formed identity numbers (GB 11643 check digit).
  const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  for (const r of RESIDENTS) {
    const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(r.idNumber[i]), 0)
    if ('10X98765432'[sum % 11] !== r.idNumber[17]) fail('providers/residents.js', `${r.idNumber} has a wrong check digit`)
  }

  // Providers: every catalog resource is served at its endpoint and answers every item, nothing else.
  const providers = await startProviders({ log: () => {}, ports: Object.fromEntries(PROVIDERS.map(p => [p.agency, 0])) })
  try {
    for (const entry of catalog.resources.values()) {
      const url = new URL(entry.resource.endpoint.url)
      const provider = PROVIDERS.find(p => p.agency === entry.provider)
      const where = `${entry.resource.id} (${url.href})`
      if (provider === undefined || Number(url.port) !== provider.port) { fail('providers/', `${where}: no provider on that port`); continue }
      const ask = async query => {
        const res = await fetch(`http://127.0.0.1:${providers.ports[entry.provider]}${url.pathname}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer check' },
          body: JSON.stringify({ requestId: crypto.randomUUID(), consumer: 'tj.check', resource: entry.resource.id, purpose: 'check', fields: [...entry.itemNames], query })
        })
        if (res.status !== 200) throw new Error(`${where} answered ${res.status}`)
        return (await res.json()).data
      }
      const records = []
      const queries = entry.requiredQuery.includes('idNumber') ? RESIDENTS.map(r => ({ idNumber: r.idNumber })) : [{}]
      for (const query of queries) {
        const data = await ask(query)
        if (data !== null) records.push(...(Array.isArray(data) ? data : [data]))
      }
      if (records.length === 0) fail('providers/', `${where}: no fake record at all`)
      for (const record of records) {
        const keys = Object.keys(record)
        const missing = [...entry.itemNames].filter(k => !keys.includes(k))
        const extra = keys.filter(k => !entry.itemNames.has(k))
        if (missing.length + extra.length > 0) fail('providers/', `${where}: record lacks [${missing}] or has undeclared [${extra}]`)
      }
      if (entry.requiredQuery.includes('idNumber') && await ask({ idNumber: '120101200001010000' }) !== null) fail('providers/', `${where}: an unknown idNumber should answer null`)
    }
  } catch (err) {
    fail('providers/', err.message)
  } finally {
    await providers.close()
  }
  return {
    problems,
    findings,
    counts: { members: memberMap.size, directories: directories.length, resources: catalog.size, grants: plan?.grants.length ?? null }
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { problems, findings, counts } = await checkExample()
    console.log(`members: ${counts.members}, directories: ${counts.directories}, catalog resources: ${counts.resources}, plan grants: ${counts.grants ?? 'invalid'}`)
    console.log(`catalog lint findings (reported, not errors): ${findings.length}`)
    for (const f of findings) console.log(`  [${f.code}] ${f.message}`)
    if (problems.length > 0) {
      console.log(`${problems.length} problem(s):`)
      for (const p of problems) console.log(`  ${p}`)
      process.exitCode = 1
    } else {
      console.log('every document is valid and every provider answers its resources')
    }
  } catch (err) {
    console.error(err.message)
    process.exitCode = 1
  }
}
