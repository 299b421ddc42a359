package sessionizer

// Forget drops the state of erased ids of site (journeyd erase): the visitors of anonIDs
// and of userIDs, the links of userIDs to their last device, and every other visitor
// linked to one of userIDs (a link made here that ClickHouse may not have yet). Later
// events of those devices get no user id from the sessionizer, so an erased link does not
// come back. It returns the number of visitors dropped, counted in
// journeyd_sessionizer_evictions_total{reason="erased"}. It scans the whole state once
// when userIDs is not empty: erasures are rare.
func (s *Sessionizer) Forget(site string, userIDs, anonIDs []string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	drop := func(k uint64) {
		if v := s.table.get(k); v != nil {
			s.table.remove(v)
			n++
		}
	}
	for _, a := range anonIDs {
		drop(key(s.seed, site, kindAnon, a))
	}
	users := make(map[uint64]bool, len(userIDs))
	for _, u := range userIDs {
		uk := key(s.seed, site, kindUser, u)
		users[uk] = true
		drop(uk)
		delete(s.table.users, uk)
	}
	if len(users) > 0 {
		for k, ref := range s.table.index {
			if v := s.table.at(ref); v.user != "" && users[v.userKey] {
				drop(k)
			}
		}
	}
	s.m.evictions.WithLabelValues("erased").Add(float64(n))
	s.m.visitors.Set(float64(s.table.len()))
	return n
}
