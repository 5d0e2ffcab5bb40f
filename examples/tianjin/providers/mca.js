// Fake Civil Affairs Bureau provider (tj.mca, port 4102): marriage registration,
// minimum living guarantee (dibao) recipients, social organisation registry.
// Each answer carries every item of the resource in directories/tj.mca.json.
import { resident, lookupByIdNumber } from './residents.js'

// `spouse`: an example resident's id, a { name } for a spouse outside the example (number withheld), or null.
const marriage = (idNumber, maritalStatus, spouseRef, registeredAt, registrationOffice) => {
  const spouse = typeof spouseRef === 'string' ? resident(spouseRef) : spouseRef
  return {
    idNumber,
    name: resident(idNumber).name,
    maritalStatus,
    spouseName: spouse === null ? null : spouse.name,
    spouseIdNumber: spouse === null ? null : spouse.idNumber ?? null,
    registeredAt,
    registrationOffice
  }
}

const marriages = [
  marriage('120102197803140427', 'divorced', null, '2019-10-14', 'Hedong District Marriage Registry'),
  marriage('120101196511020174', 'married', { name: '周敏' }, '1991-05-01', 'Heping District Marriage Registry'),
  marriage('120116199007210356', 'unmarried', null, null, null),
  marriage('120104198801300260', 'married', '120103198605090538', '2016-04-30', 'Nankai District Marriage Registry'),
  marriage('120103198605090538', 'married', '120104198801300260', '2016-04-30', 'Nankai District Marriage Registry'),
  marriage('120105194909120681', 'widowed', null, '2017-12-02', 'Hebei District Marriage Registry')
]

const dibao = [
  {
    idNumber: '120102197803140427',
    name: resident('120102197803140427').name,
    recipientStatus: 'active',
    householdSize: 2,
    monthlyAllowanceCny: 1540,
    district: 'Hedong',
    approvedAt: '2024-03-18'
  },
  {
    idNumber: '120105194909120681',
    name: resident('120105194909120681').name,
    recipientStatus: 'active',
    householdSize: 1,
    monthlyAllowanceCny: 1010,
    district: 'Hebei',
    approvedAt: '2018-01-09'
  }
]

const organisations = [
  {
    unifiedSocialCreditCode: '51120000MJ0000001A',
    organisationName: 'Tianjin Haihe Volunteer Service Association',
    organisationType: 'social-group',
    legalRepresentative: '陈静',
    businessScope: 'Community volunteer services, elderly visits, river clean-up days',
    registeredAt: '2019-03-22',
    status: 'active'
  },
  {
    unifiedSocialCreditCode: '52120000MJ0000002B',
    organisationName: 'Tianjin Binhai Elderly Day Care Centre',
    organisationType: 'private-non-enterprise',
    legalRepresentative: '刘洋',
    businessScope: 'Day care, meals and rehabilitation for elderly residents',
    registeredAt: '2022-07-01',
    status: 'active'
  },
  {
    unifiedSocialCreditCode: '53120000MJ0000003C',
    organisationName: 'Tianjin Children Education Assistance Foundation',
    organisationType: 'foundation',
    legalRepresentative: '张建国',
    businessScope: 'Scholarships for children of low-income households',
    registeredAt: '2013-09-10',
    status: 'cancelled'
  }
]
const organisationsByCode = new Map(organisations.map(o => [o.unifiedSocialCreditCode, o]))

export const mca = {
  agency: 'tj.mca',
  port: 4102,
  resources: {
    'marriage-registration': lookupByIdNumber(marriages),
    'minimum-living-guarantee-recipients': lookupByIdNumber(dibao),
    // The credit code is optional: without it the whole registry is answered as an array.
    'social-organisation-registry': query => query.unifiedSocialCreditCode === undefined
      ? organisations
      : organisationsByCode.get(query.unifiedSocialCreditCode) ?? null
  }
}
