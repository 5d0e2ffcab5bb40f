// Fake Public Security Bureau provider (tj.psb, port 4101): household register and
// identity card status. Each answer carries every item of the resource in
// directories/tj.psb.json; the gateway removes what the grant does not allow.
import { RESIDENTS, lookupByIdNumber } from './residents.js'

const HOUSEHOLD_EXTRA = {
  '120102197803140427': { householdType: 'family-household', relationToHead: 'head', registeredAt: '2009-04-21' },
  '120101196511020174': { householdType: 'family-household', relationToHead: 'head', registeredAt: '1994-10-08' },
  '120116199007210356': { householdType: 'collective-household', relationToHead: 'member of collective household', registeredAt: '2015-08-30' },
  '120104198801300260': { householdType: 'family-household', relationToHead: 'spouse', registeredAt: '2016-05-12' },
  '120103198605090538': { householdType: 'family-household', relationToHead: 'head', registeredAt: '2016-05-12' },
  '120105194909120681': { householdType: 'family-household', relationToHead: 'head', registeredAt: '1983-02-17' },
  '120110199204150817': { householdType: 'family-household', relationToHead: 'son', registeredAt: '1992-05-03' }
}

const ID_CARDS = {
  '120102197803140427': { cardStatus: 'valid', issuedAt: '2018-06-02', validUntil: '2038-06-02' },
  '120101196511020174': { cardStatus: 'valid', issuedAt: '2012-03-15', validUntil: '2032-03-15' },
  '120116199007210356': { cardStatus: 'reported-lost', issuedAt: '2016-09-01', validUntil: '2036-09-01' },
  '120104198801300260': { cardStatus: 'valid', issuedAt: '2021-11-20', validUntil: '2041-11-20' },
  '120103198605090538': { cardStatus: 'expired', issuedAt: '2005-07-11', validUntil: '2025-07-11' },
  '120105194909120681': { cardStatus: 'valid', issuedAt: '2010-01-06', validUntil: null },
  '120110199204150817': { cardStatus: 'valid', issuedAt: '2019-04-28', validUntil: '2029-04-28' }
}

const households = RESIDENTS.map(r => ({
  idNumber: r.idNumber,
  name: r.name,
  gender: r.gender,
  birthDate: r.birthDate,
  ethnicity: r.ethnicity,
  householdAddress: r.householdAddress,
  ...HOUSEHOLD_EXTRA[r.idNumber]
}))

const idCards = RESIDENTS.map(r => ({
  idNumber: r.idNumber,
  ...ID_CARDS[r.idNumber],
  issuingAuthority: `Tianjin Public Security Bureau, ${r.district} Branch`
}))

export const psb = {
  agency: 'tj.psb',
  port: 4101,
  resources: {
    'household-registration': lookupByIdNumber(households),
    'resident-id-card-status': lookupByIdNumber(idCards)
  }
}
