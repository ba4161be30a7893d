import autocannon from 'autocannon';
const kind = process.argv[2]; const dur = Number(process.argv[3]);
const T = 'roster_st_Z67fU1QLRaaRjnzGshJZ5U5LN1bTGfrH0Hufg2pNnuE';
const ids = ['313d33b7-c8e0-4d2b-a07e-140a95ac47f1','99dbac18-24d5-43ae-9aac-e28e9f162811','1c4efc08-3ff9-4931-be53-efd085565136'];
const port = process.env.LPORT ?? 39001;
const r = await autocannon({ url: `http://127.0.0.1:${port}`, connections: 10, duration: dur, headers: { authorization: `Bearer ${T}` },
  requests: [{ setupRequest: (req) => { const i = Math.floor(Math.random()*10000);
    req.path = kind === 'id' ? `/scim_v2/Users/${ids[i%3]}` : `/scim_v2/Users?filter=${encodeURIComponent(`userName eq "u${String(i).padStart(6,'0')}@bench.example.com"`)}`; return req; } }] });
console.log(kind, Math.round(r.requests.average), 'req/s', 'p50', r.latency.p50, 'non2xx', r.non2xx, 'errors', r.errors);
