package sessionizer

// visitor is the state kept per visitor: the open session and the linked user id. It is
// kept small (104 bytes plus the session id and user id strings) because a node holds
// millions of them; see BenchmarkMemoryPerVisitor.
type visitor struct {
	key     uint64  // hash of site and anonymous id (or user id), see Sessionizer.visitorKey
	start   int64   // event time of the session's first event, unix ms
	last    int64   // event time of the session's latest event, unix ms
	seen    int64   // clock time of the latest arrival, unix ms; ages the visitor out
	touch   uint64  // hash of the session's source and click id; 0 for a session without one
	session string  // session id
	source  *source // the session's source, carried onto events without one; nil for none
	user    string  // the first user id linked to this visitor
	userKey uint64  // hash of site and user, the key of user in table.users
	part    uint16  // how often a snippet session was cut at the maximum length
	slot    uint32  // own slot + 1
	newer   uint32  // slot + 1 of the next more recently seen visitor; 0 at the head
	older   uint32  // slot + 1 of the next less recently seen visitor; 0 at the tail
}

// maxChunkBits sets the largest chunk: 4096 visitors, about 450 KB.
const maxChunkBits = 12

// table holds the visitors in fixed chunks (pointers into them stay valid), indexed by key,
// with an intrusive list from the most to the least recently seen. It holds at most max.
type table struct {
	index  map[uint64]uint32 // visitor key -> slot + 1
	users  map[uint64]uint64 // user key -> key of the visitor last linked to that user
	chunks [][]visitor       // each of 1<<bits visitors
	bits   uint
	free   []uint32 // free slots + 1
	max    int
	head   uint32 // most recently seen, slot + 1
	tail   uint32 // least recently seen, slot + 1
}

func newTable(max int) *table {
	bits := uint(0)
	for bits < maxChunkBits && 1<<bits < max {
		bits++
	}
	return &table{index: map[uint64]uint32{}, users: map[uint64]uint64{}, max: max, bits: bits}
}

func (t *table) len() int { return len(t.index) }

func (t *table) at(ref uint32) *visitor {
	if ref == 0 {
		return nil
	}
	i := ref - 1
	return &t.chunks[i>>t.bits][i&(1<<t.bits-1)]
}

// get returns the visitor of key, or nil.
func (t *table) get(key uint64) *visitor {
	ref, ok := t.index[key]
	if !ok {
		return nil
	}
	return t.at(ref)
}

// oldest returns the least recently seen visitor, or nil.
func (t *table) oldest() *visitor { return t.at(t.tail) }

// add inserts a fresh visitor for key at the head. The caller makes room first when the
// table is full (full reports it).
func (t *table) add(key uint64) *visitor {
	v := t.alloc(key)
	t.pushHead(v)
	return v
}

// addOldest inserts a fresh visitor for key at the tail, as the least recently seen. The
// caller makes room first.
func (t *table) addOldest(key uint64) *visitor {
	v := t.alloc(key)
	v.newer, v.older = t.tail, 0
	if o := t.at(t.tail); o != nil {
		o.older = v.slot
	}
	t.tail = v.slot
	if t.head == 0 {
		t.head = v.slot
	}
	return v
}

// alloc takes a free slot for a fresh visitor of key and indexes it, on no list yet.
func (t *table) alloc(key uint64) *visitor {
	var ref uint32
	if n := len(t.free); n > 0 {
		ref, t.free = t.free[n-1], t.free[:n-1]
	} else {
		size := uint32(1) << t.bits
		ref = uint32(len(t.chunks))*size + 1
		t.chunks = append(t.chunks, make([]visitor, size))
		for i := size - 1; i > 0; i-- {
			t.free = append(t.free, ref+i)
		}
	}
	v := t.at(ref)
	*v = visitor{key: key, slot: ref}
	t.index[key] = ref
	return v
}

// full reports whether the table holds its maximum.
func (t *table) full() bool { return len(t.index) >= t.max }

// remove drops v and its user link, and frees its slot.
func (t *table) remove(v *visitor) {
	t.unlink(v)
	delete(t.index, v.key)
	if v.user != "" && t.users[v.userKey] == v.key {
		delete(t.users, v.userKey)
	}
	ref := v.slot
	*v = visitor{}
	t.free = append(t.free, ref)
}

// touch moves v to the head of the list.
func (t *table) touch(v *visitor) {
	if t.head == v.slot {
		return
	}
	t.unlink(v)
	t.pushHead(v)
}

func (t *table) pushHead(v *visitor) {
	v.older, v.newer = t.head, 0
	if h := t.at(t.head); h != nil {
		h.newer = v.slot
	}
	t.head = v.slot
	if t.tail == 0 {
		t.tail = v.slot
	}
}

func (t *table) unlink(v *visitor) {
	if n := t.at(v.newer); n != nil {
		n.older = v.older
	} else {
		t.head = v.older
	}
	if o := t.at(v.older); o != nil {
		o.newer = v.newer
	} else {
		t.tail = v.newer
	}
	v.newer, v.older = 0, 0
}
