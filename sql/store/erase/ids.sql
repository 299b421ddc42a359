-- ids: every id of the person @person on @site, for erasure. users: @person itself when it
-- is a user id, every user id an anonymous id @person was ever linked to, and every user id
-- (an id some event carries as its user id) linked to @person: an alias whose previousId is
-- a user id merges that user into the person (DESIGN §6); anons: @person itself and every anonymous id ever linked to one of
-- those user ids, the aliased ones included (all links, not only the first that wins for
-- journeys: erasure takes every device the person used). Other user ids seen on those
-- devices are not followed: their own events stay. GLOBAL IN: on a cluster the subquery
-- reads the Distributed table once, on this node.
SELECT
    arrayDistinct(arrayConcat([@person], groupUniqArrayIf(user_id, anon_id = @person),
        groupUniqArrayIf(anon_id, user_id = @person AND anon_id GLOBAL IN
            (SELECT user_id FROM $db.events WHERE site_id = @site AND user_id != '' AND user_id GLOBAL IN
                (SELECT anon_id FROM $db.identities WHERE site_id = @site AND user_id = @person))))) AS users,
    arrayDistinct(arrayConcat([@person], groupUniqArray(anon_id))) AS anons
FROM $db.identities
WHERE site_id = @site AND (anon_id = @person OR user_id = @person
    OR user_id GLOBAL IN (SELECT user_id FROM $db.identities WHERE site_id = @site AND anon_id = @person)
    OR user_id GLOBAL IN (SELECT anon_id FROM $db.identities WHERE site_id = @site AND user_id = @person))
