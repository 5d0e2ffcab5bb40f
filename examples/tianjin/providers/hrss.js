// Fake Human Resources and Social Security Bureau provider (tj.hrss, port 4103):
// social insurance contributions, employment registration, and the confidential
// civil servant personnel files, which an extranet gateway never forwards to
// (Art. 8): the provider serves them so an intranet deployment could.
// Each answer carries every item of the resource in directories/tj.hrss.json.
import { resident, lookupByIdNumber } from './residents.js'

const ALL_INSURANCE = ['pension', 'medical', 'unemployment', 'work-injury', 'maternity']

const insurance = (idNumber, insuranceTypes, contributionStatus, contributionBaseCny, employerName, lastContributionMonth, cumulativeMonths) => ({
  idNumber, name: resident(idNumber).name, insuranceTypes, contributionStatus, contributionBaseCny, employerName, lastContributionMonth, cumulativeMonths
})

const contributions = [
  insurance('120102197803140427', ['pension', 'medical'], 'suspended', 4166, null, '2023-11', 214),
  insurance('120101196511020174', ALL_INSURANCE, 'contributing', 14820, 'Tianjin Municipal Development and Reform Commission', '2026-10', 398),
  insurance('120116199007210356', ALL_INSURANCE, 'contributing', 12500, 'Tianjin Haihe Example Technology Co., Ltd.', '2026-10', 121),
  insurance('120104198801300260', ['pension', 'medical'], 'contributing', 4166, null, '2026-10', 96),
  insurance('120103198605090538', ALL_INSURANCE, 'contributing', 9800, 'Tianjin Port Example Logistics Co., Ltd.', '2026-10', 167),
  insurance('120105194909120681', ['pension', 'medical'], 'retired', null, null, '2004-08', 312)
]

const employment = (idNumber, employmentStatus, employerName, registeredAt, unemploymentCertificateNo) => ({
  idNumber, name: resident(idNumber).name, gender: resident(idNumber).gender, employmentStatus, employerName, registeredAt, unemploymentCertificateNo
})

const registrations = [
  employment('120102197803140427', 'unemployed-registered', null, '2023-12-05', 'TJ-UE-2023-0048213'),
  employment('120101196511020174', 'employed', 'Tianjin Municipal Development and Reform Commission', '1988-07-15', null),
  employment('120116199007210356', 'employed', 'Tianjin Haihe Example Technology Co., Ltd.', '2016-07-04', null),
  employment('120104198801300260', 'flexible-employment', null, '2021-03-09', null),
  employment('120103198605090538', 'employed', 'Tianjin Port Example Logistics Co., Ltd.', '2012-09-01', null),
  employment('120105194909120681', 'retired', null, '2004-09-12', null)
]

const personnelFiles = [
  {
    idNumber: '120101196511020174',
    name: resident('120101196511020174').name,
    employingOrgan: 'Tianjin Municipal Development and Reform Commission',
    rank: 'Second-level inspector',
    appointedAt: '2019-01-10',
    appraisalResults: [{ year: 2025, result: 'excellent' }, { year: 2024, result: 'competent' }]
  }
]

export const hrss = {
  agency: 'tj.hrss',
  port: 4103,
  resources: {
    'social-insurance-contributions': lookupByIdNumber(contributions),
    'employment-registration': lookupByIdNumber(registrations),
    'personnel-files-of-civil-servants': lookupByIdNumber(personnelFiles)
  }
}
