-- delete_identities: every identity link of @site to one of the erased user ids.
ALTER TABLE $db.identities DELETE
WHERE site_id = @site AND has(@users, user_id)
