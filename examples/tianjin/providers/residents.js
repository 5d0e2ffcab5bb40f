// The example's FAKE residents: invented people with well-formed Tianjin identity
// numbers (region code, birth date, sequence, check digit), shared by the three
// agencies' providers so an exchange across agencies tells one consistent story.
// None of these people exist.

/**
 * A resource handler answering the record whose `idNumber` is `query.idNumber`,
 * or null. The table is built once, not per request.
 */
export function lookupByIdNumber (records) {
  const index = new Map()
  for (const record of records) index.set(record.idNumber, record)
  return query => index.get(query.idNumber) ?? null
}

export const RESIDENTS = [
  {
    idNumber: '120102197803140427',
    name: '王丽华',
    gender: 'female',
    birthDate: '1978-03-14',
    ethnicity: 'Han',
    district: 'Hedong',
    householdAddress: '天津市河东区十一经路 58 号 3-2-201',
    note: 'dibao recipient, registered unemployed, divorced'
  },
  {
    idNumber: '120101196511020174',
    name: '张建国',
    gender: 'male',
    birthDate: '1965-11-02',
    ethnicity: 'Han',
    district: 'Heping',
    householdAddress: '天津市和平区南京路 219 号 5-1-602',
    note: 'civil servant (confidential personnel file), married'
  },
  {
    idNumber: '120116199007210356',
    name: '刘洋',
    gender: 'male',
    birthDate: '1990-07-21',
    ethnicity: 'Han',
    district: 'Binhai New Area',
    householdAddress: '天津市滨海新区第三大街 16 号 2-1703',
    note: 'employed at a tech company, unmarried, collective household'
  },
  {
    idNumber: '120104198801300260',
    name: '陈静',
    gender: 'female',
    birthDate: '1988-01-30',
    ethnicity: 'Hui',
    district: 'Nankai',
    householdAddress: '天津市南开区鞍山西道 342 号 7-3-401',
    note: 'married to 赵磊, flexible employment'
  },
  {
    idNumber: '120103198605090538',
    name: '赵磊',
    gender: 'male',
    birthDate: '1986-05-09',
    ethnicity: 'Han',
    district: 'Hexi',
    householdAddress: '天津市南开区鞍山西道 342 号 7-3-401',
    note: 'married to 陈静, employed'
  },
  {
    idNumber: '120105194909120681',
    name: '李秀英',
    gender: 'female',
    birthDate: '1949-09-12',
    ethnicity: 'Man',
    district: 'Hebei',
    householdAddress: '天津市河北区中山路 77 号 1-1-102',
    note: 'widowed, retired, dibao recipient, identity card valid for life'
  },
  {
    idNumber: '120110199204150817',
    name: '孙浩',
    gender: 'male',
    birthDate: '1992-04-15',
    ethnicity: 'Han',
    district: 'Dongli',
    householdAddress: '天津市东丽区津塘公路 1090 号 4-2-302',
    note: 'only in the household register: other agencies answer null'
  }
]

const byId = new Map(RESIDENTS.map(r => [r.idNumber, r]))

/** The resident with this identity number; throws on a typo in the fake data tables. */
export function resident (idNumber) {
  const found = byId.get(idNumber)
  if (found === undefined) throw new Error(`fake data refers to unknown resident ${idNumber}`)
  return found
}
